"""Saving and loading weights: state_dicts (weights_only=True), matched by name, reported."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from torchcanvas.app.train.core.weights import match_summary, match_tensors, state_in
from torchcanvas.app.train.runfolder import resolve
from torchcanvas.app.train.weights_io import (
    WeightsFileError,
    check_tensors,
    load_file,
    non_finite,
)
from torchcanvas.codegen.fingerprint import design_hash
from torchcanvas.graph.fileio import FileRefused, atomic_write

CHECKPOINT_FORMAT = "torchcanvas-checkpoint"
MAX_REPORT_LINES = 40


class WeightsError(ValueError):
    """A weights file that cannot be read or applied; `report` says which tensors."""

    def __init__(self, message: str, report: WeightsReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class WeightsReport:
    """Which tensors of a file fit the model, grouped by node."""

    matched: dict[str, str] = field(default_factory=dict)  # model key -> file key
    missing: list[str] = field(default_factory=list)  # model keys with no tensor in the file
    unexpected: list[str] = field(default_factory=list)  # file keys the model does not have
    mismatched: dict[str, tuple[tuple, tuple]] = field(default_factory=dict)  # key -> (model, file)
    non_finite: dict[str, str] = field(default_factory=dict)  # model key -> "3 NaN, 1 inf"

    @property
    def complete(self) -> bool:
        """Every tensor matched and nothing left over: a strict load would succeed."""
        return bool(self.matched) and not (self.missing or self.unexpected or self.mismatched)

    def by_node(self) -> dict[str, dict[str, list[str]]]:
        """Tensors by node: {node: {"matched": [...], "missing": [...], ...}}."""
        nodes: dict[str, dict[str, list[str]]] = {}

        def add(key: str, kind: str, text: str) -> None:
            node = key.rsplit(".", 1)[0] if "." in key else key  # the module: layer1.0.conv1
            nodes.setdefault(
                node, {"matched": [], "missing": [], "mismatched": [], "unexpected": []}
            )[kind].append(text)

        for key in self.matched:
            add(key, "matched", _leaf(key))
        for key in self.missing:
            add(key, "missing", _leaf(key))
        for key, (want, got) in self.mismatched.items():
            add(key, "mismatched", f"{_leaf(key)} {_shape(got)} (model {_shape(want)})")
        for key in self.unexpected:
            add(key, "unexpected", key)
        for key, count in self.non_finite.items():
            nodes.setdefault(key.rsplit(".", 1)[0], {}).setdefault("NaN/inf", []).append(
                f"{_leaf(key)} ({count})"
            )
        return nodes

    def summary(self) -> str:
        """One line of counts."""
        text = match_summary(self.matched, self.missing, self.unexpected, self.mismatched)
        if self.non_finite:
            text += f"; {len(self.non_finite)} with NaN or inf values"
        return text

    def lines(self, limit: int = MAX_REPORT_LINES) -> list[str]:
        """The report as text, one node per line, nodes that need attention first (at most
        `limit`, then a count)."""
        out = []
        nodes = self.by_node().items()
        for node, kinds in sorted(nodes, key=lambda item: not _needs_attention(item[1])):
            parts = [f"{kind}: {_capped(items)}" for kind, items in kinds.items() if items]
            out.append(f"{node}: " + "; ".join(parts))
        if len(out) > limit:
            out = out[:limit] + [f"… and {len(out) - limit:,} more nodes"]
        return out + [self.summary()]


def _needs_attention(kinds: dict[str, list[str]]) -> bool:
    return any(items for kind, items in kinds.items() if kind != "matched")


def _capped(items: list[str], limit: int = 12) -> str:
    more = f", … {len(items) - limit:,} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _leaf(key: str) -> str:
    return key.rsplit(".", 1)[1] if "." in key else key


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def safe_load(path: str | os.PathLike):
    """torch.load(path, weights_only=True), with a WeightsError that says why for any failure."""
    name = Path(path).name
    try:
        return load_file(path, name)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file") from None
    except (WeightsFileError, FileRefused) as error:
        raise WeightsError(str(error)) from None
    except OSError as error:
        raise WeightsError(f"{name}: cannot read ({error.strerror or error})") from None
    except Exception as error:  # torch reports refusals and corrupt files with several types
        raise WeightsError(_refusal(name, error)) from None


def _refusal(name: str, error: Exception) -> str:
    text = str(error).strip()
    if "Weights only load failed" in text:
        # torch goes on to suggest weights_only=False; that would run code from the file.
        skip = ("Weights only load failed", "Please file", "Check the documentation")
        lines = [line.strip() for line in text.splitlines()]
        found = next((line for line in lines if line and not line.startswith(skip)), "")
        return (
            f"{name}: weights_only=True refused it: the file holds more than tensors "
            f"({found[:120] or 'objects'}). Only plain state_dicts are loaded; nothing "
            f"in a file is ever run."
        )
    return f"{name}: not a loadable weights file (not one written by torch.save)"


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a .pt/.pth state_dict safely (weights_only=True), unwrapping common checkpoints.

    A run folder, or a file of one, gives the folder's committed weights (see runfolder).
    """
    path = resolve(path, "model")
    return as_state_dict(safe_load(path), path.name)


def as_state_dict(data, name: str = "file") -> dict[str, torch.Tensor]:
    """The str -> Tensor mapping inside `data`, or WeightsError."""
    state = state_in(data)
    if state is None:
        raise WeightsError(
            f"{name}: not a state_dict (found {type(data).__name__}); save one "
            f"with torch.save(model.state_dict(), path)."
        )
    try:
        check_tensors(state, name)
    except WeightsFileError as error:
        raise WeightsError(str(error)) from None
    return state


def match(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> WeightsReport:
    """Match file tensors to the model's by name (tolerating `module.` and dotted paths)."""
    matched, missing, unexpected, mismatched = match_tensors(model.state_dict(), state)
    report = WeightsReport(matched, missing, unexpected, mismatched)
    report.non_finite = non_finite({k: state[v] for k, v in matched.items()})
    return report


def apply(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor], strict: bool = True
) -> WeightsReport:
    """Load matched tensors into `model`; refuse (model unchanged) when nothing or not all fits."""
    report = match(model, state)
    if not report.matched:
        raise WeightsError(
            "no tensor in the file fits this model; node names must match (e.g. conv1.weight).",
            report,
        )
    if strict and not report.complete:
        raise WeightsError(
            f"the file does not fit exactly ({report.summary()}); fix the "
            f"listed tensors or load partially.",
            report,
        )
    mapped = {model_key: state[file_key] for model_key, file_key in report.matched.items()}
    model.load_state_dict(mapped, strict=False)
    return report


def save_state_dict(model_or_state, path: str | os.PathLike) -> None:
    """Write a state_dict atomically as a .pt file."""
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
    atomic_write(path, buffer.getvalue())


def graph_hash(source: str) -> str:
    """Fingerprint of the generated code, which fixes the state_dict layout: of its syntax
    tree, not its layout (checkpoints compare it with codegen.fingerprint.same_design)."""
    return design_hash(source)
