"""Shared test set-up: Qt runs offscreen, and no bare `graph`/`app`/`codegen` import."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "examples"
BARE = ("graph", "app", "codegen")  # the folders' names; they import as torchcanvas.*

# tests/xcb runs in its own process on the xcb platform (make test-xcb): a Qt platform is
# fixed per process, and everything else here runs offscreen.
collect_ignore = [] if os.environ.get("TORCHCANVAS_LANE") == "xcb" else ["xcb"]


def bare_modules(modules=None) -> list[str]:
    """Modules imported under a folder's bare name: a second copy (a second registry)."""
    return sorted(name for name in modules or sys.modules if name.split(".")[0] in BARE)


@pytest.fixture(autouse=True)
def no_bare_imports():
    """Fail the test after which a bare module appears (pytest puts the root on sys.path,
    because tests import `tests` and `bench`, so `import graph` would work here)."""
    yield
    found = bare_modules()
    for name in found:  # fail this test only, not every one after it
        del sys.modules[name]
    assert not found, f"imported by a bare name, not torchcanvas.*: {found[:5]}"
