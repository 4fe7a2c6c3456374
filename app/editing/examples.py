"""The bundled example projects: where they are and which one opens first."""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_EXAMPLE = "digits_cnn"


def examples_folder() -> Path:
    """The bundled examples: in the source tree, or where a wheel install puts them."""
    source = Path(__file__).resolve().parents[2] / "assets" / "examples"
    for folder in (source, Path(sys.prefix) / "share" / "torchcanvas" / "examples"):
        if folder.is_dir():
            return folder
    return source


EXAMPLES = examples_folder()
