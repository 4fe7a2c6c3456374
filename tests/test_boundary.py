"""The model, codegen and training engine never import Qt."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = """
import sys, importlib, pkgutil
for package in ("graph", "codegen", "app.train", "app.cli"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
import app.__main__
from graph.project import load_project
from codegen.build import build_model
build_model(load_project("assets/examples/small_cnn.json").model)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"))
print("QT:", bad)
"""


def test_importing_the_core_leaves_qt_out():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "QT: []" in done.stdout
