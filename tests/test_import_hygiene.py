"""Only torchcanvas.* imports: no bare `graph`/`app`/`codegen`, and graph never imports codegen."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, bare_modules

GRAPH_ONLY = """
import importlib, pkgutil, sys
import torchcanvas.graph as graph
for info in pkgutil.walk_packages(graph.__path__, "torchcanvas.graph."):
    importlib.import_module(info.name)
print(sorted(m for m in sys.modules if m.startswith(("torchcanvas.codegen", "torchcanvas.app"))))
"""


def import_every_module(skip_ui: bool) -> list[str]:
    """Import every torchcanvas module (the window's too unless `skip_ui`); their names."""
    names = []
    for folder in ("graph", "codegen", "app"):
        package = importlib.import_module(f"torchcanvas.{folder}")
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if skip_ui and info.name.startswith("torchcanvas.app.ui"):
                continue
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
            names.append(info.name)
    return names


@pytest.mark.slow
def test_no_module_is_imported_by_a_bare_name(tmp_path):
    skip_ui = importlib.util.find_spec("PySide6") is None
    names = import_every_module(skip_ui)
    assert "torchcanvas.graph.registry" in names and "torchcanvas.app.worker" in names
    from torchcanvas.app.__main__ import main

    # A small flow through the CLI: check, then export the model and its training script.
    example = str(EXAMPLES / "small_cnn.json")
    assert main(["check", example]) == 0
    assert main(["export", example, "-o", str(tmp_path / "model.py")]) == 0
    assert main(["export", example, "--format", "script", "-o", str(tmp_path / "t.py")]) == 0
    assert bare_modules() == []


def test_the_guard_names_bare_modules_only():
    modules = ["graph", "graph.registry", "app.ui", "codegen.emit", "graphviz", "apps"]
    found = bare_modules(modules + ["torchcanvas.graph.registry", "tests.conftest"])
    assert found == ["app.ui", "codegen.emit", "graph", "graph.registry"]


@pytest.mark.slow
def test_the_model_imports_neither_codegen_nor_the_app(tmp_path):
    # Outside the repository, so only the installed namespace can be imported.
    done = subprocess.run(
        [sys.executable, "-c", GRAPH_ONLY], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
