"""What the importer builds from a trace before it becomes graphs: ops, refs, problems and
the source lines they came from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ref:
    """One value an op produced: its output port."""

    op: int
    port: str


@dataclass
class Op:
    """One node to be: a registry type, its parameters and where its inputs come from."""

    id: int
    type: str
    name: str  # the wanted node name: the module attribute, or the fx node's name
    params: dict
    inputs: dict[str, Ref]  # input port -> value
    scope: tuple[str, ...]  # module-stack keys it ran inside, outermost first
    line: str = ""  # the source line, for reports
    module: str = ""  # the leaf module's path, for module ops


@dataclass
class Problem:
    """Something the import could not map, with where it came from and what to do."""

    what: str
    line: str = ""
    fatal: bool = True

    def __str__(self) -> str:
        where = f"\n    at {self.line}" if self.line else ""
        return f"{self.what}{where}"


@dataclass
class Report:
    """What an import did: counts, and every problem it met."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    layers: int = 0
    blocks: int = 0
    seconds: float = 0.0
    verified: str = ""  # how the round trip was checked, once it was

    @property
    def ok(self) -> bool:
        """Nothing fatal: the project can be written."""
        return not any(p.fatal for p in self.problems)

    def text(self) -> str:
        """The report as lines for a terminal or a dialog."""
        lines = []
        if self.ok:
            lines.append(
                f"imported {self.layers} layers, {self.blocks} block definitions "
                f"in {self.seconds:.1f} s"
            )
        else:
            count = sum(p.fatal for p in self.problems)
            lines.append(f"cannot import: {count} part{'s' * (count != 1)} could not be mapped")
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  {note}" for note in self.notes]
        if self.verified:
            lines.append(f"  {self.verified}")
        return "\n".join(lines)


class ImportFailed(Exception):
    """The import stopped; `report` says why."""

    def __init__(self, report: Report) -> None:
        super().__init__(report.text())
        self.report = report


def user_frames(trace: str) -> list[tuple[str, int, str]]:
    """(path, line, code) of each frame of a stack trace outside torch, outermost first."""
    lines = [line.strip() for line in trace.strip().splitlines()]
    frames = []
    for index, line in enumerate(lines):
        if not line.startswith("File ") or "/torch/" in line or "/fximport/" in line:
            continue
        parts = line.split(",")
        path = parts[0].removeprefix('File "').rstrip('"')
        number = parts[1].strip().removeprefix("line ") if len(parts) > 1 else ""
        code = lines[index + 1] if index + 1 < len(lines) else ""
        if number.isdigit():
            frames.append((path, int(number), code))
    return frames


def frame_text(frame: tuple[str, int, str]) -> str:
    """`file.py:12: code`."""
    return f"{frame[0]}:{frame[1]}: {frame[2]}"
