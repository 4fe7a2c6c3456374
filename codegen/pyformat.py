"""Generated code laid out by `ruff format` itself (its defaults: line length 88).

Codegen writes each statement on one line; ruff, pinned in constraints.txt, lays the file
out, so exports pass `ruff format --check` whatever the names, and the layout is the same
on every machine. One ruff process per call: the window formats once per shown change,
never per node.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import OrderedDict
from functools import lru_cache

INDENT = "    "
TIMEOUT_S = 60  # a formatter that hangs must not hang the window with it


class FormatError(ValueError):
    """ruff could not be run, or refused the code (a codegen bug: the code is invalid)."""


def format_code(source: str) -> str:
    """`source` as `ruff format --isolated` lays it out; FormatError when ruff fails."""
    command = [*_ruff(), "format", "--isolated", "--stdin-filename", "generated.py", "-"]
    try:
        done = subprocess.run(
            command,
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise FormatError(f"cannot run ruff to format the generated code: {error}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise FormatError(f"ruff could not format the generated code: {message}")
    return done.stdout.decode("utf-8")


@lru_cache(maxsize=1)
def _ruff() -> tuple[str, ...]:
    """The ruff command: the binary the ruff package ships, else `python -m ruff`."""
    try:
        from ruff import find_ruff_bin

        return (os.fsdecode(find_ruff_bin()),)
    except (ImportError, FileNotFoundError):
        return (sys.executable, "-m", "ruff")


def statement_nodes(raw: str, raw_nodes: dict[int, str], formatted: str) -> dict[int, str]:
    """Line of `formatted` -> node, from `raw_nodes` (line of `raw` -> node): ruff keeps
    every statement and their order, so the i-th statement of one is the i-th of the
    other, and each line of a statement ruff split goes to the statement's node."""
    after = _statements(formatted)
    # Codegen writes a statement a line, so parsing `raw` is needed only where a string
    # spans lines (a block's docstring).
    before = [number for number, line in enumerate(raw.split("\n"), 1) if line.strip()]
    if len(before) != len(after):
        before = [statement.lineno for statement in _statements(raw)]
    if len(before) != len(after):
        raise FormatError("ruff changed the statements of the generated code")
    found: dict[int, str] = {}
    for old, new in zip(before, after):
        node = raw_nodes.get(old)
        if node is not None:  # a compound statement's body lines are re-set by its children
            found.update(dict.fromkeys(range(new.lineno, new.end_lineno + 1), node))
    return found


def _statements(source: str) -> list[ast.stmt]:
    """Every statement, in source order (a compound statement before its body)."""
    found: list[ast.stmt] = []

    def visit(body: list[ast.stmt]) -> None:
        for statement in body:
            found.append(statement)
            for field in ("body", "orelse", "handlers", "finalbody"):
                visit(getattr(statement, field, None) or [])

    visit(ast.parse(source).body)
    return found


class FormatCache:
    """Formatted text by unformatted text, the last `limit` of them: the code panel, an
    export and a training run asking for the same design's code start ruff once."""

    def __init__(self, limit: int = 8) -> None:
        self.limit = limit
        self._texts: OrderedDict[str, str] = OrderedDict()

    def format(self, source: str) -> str:
        """`format_code(source)`, from the cache when it was formatted lately."""
        found = self._texts.get(source)
        if found is None:
            found = format_code(source)
            self._texts[source] = found
            if len(self._texts) > self.limit:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(source)
        return found

    def clear(self) -> None:
        """Forget every text (benchmarks measure ruff cold)."""
        self._texts.clear()


FORMATTED = FormatCache()
