"""The wheel's package list covers every package folder of the repository."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def test_every_package_folder_is_installed_under_the_torchcanvas_namespace():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    found = set()
    for top in ("app", "graph", "codegen"):
        for init in (ROOT / top).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT).parts
            found.add("torchcanvas." + ".".join(parts))
    assert found == set(config["packages"])
    assert mapping == {f"torchcanvas.{top}": top for top in ("app", "codegen", "graph")}
