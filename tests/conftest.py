"""Shared test set-up: Qt runs offscreen, and a few graph builders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "examples"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
