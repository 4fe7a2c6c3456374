"""The model, codegen, training engine and editing core never import Qt; the install is one
namespace."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = """
import sys, importlib, pkgutil
core = ("graph", "codegen", "app.train", "app.cli", "app.editing")
for package in ["torchcanvas." + name for name in core]:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
import torchcanvas.app.__main__
from torchcanvas.graph.project import load_project
from torchcanvas.codegen.build import build_model
build_model(load_project(sys.argv[1]).model)
from torchcanvas.app.editing import Document
document = Document(home=".")
document.open(sys.argv[1])
assert document.add_node("ReLU", (0, 0)) is None
document.undo.undo()
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"))
print("QT:", bad)
print("TOP:", sorted(m for m in sys.modules if m.split(".")[0] in ("app", "graph", "codegen")))
"""


@pytest.mark.slow
def test_importing_the_core_leaves_qt_out(tmp_path):
    example = ROOT / "assets" / "examples" / "small_cnn.json"
    # Run outside the repository, so only the installed namespace can be imported.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "QT: []" in done.stdout
    assert "TOP: []" in done.stdout  # nothing installs a top-level app, graph or codegen
