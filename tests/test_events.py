"""Typed training events, and tasks as the only place that knows a task's name."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

from torchcanvas.app.train import events
from torchcanvas.app.train.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
TASK_MODULES = {ROOT / "app" / "train" / "tasks.py", ROOT / "app" / "train" / "core" / "tasks.py"}


def test_events_cross_a_process_boundary_and_read_like_their_dicts():
    epoch = events.Epoch({"epoch": 2, "train_loss": 0.5, "val_acc": None}, 3.0, 6.0)
    copy = pickle.loads(pickle.dumps(epoch))
    assert type(copy) is events.Epoch and copy.row == epoch.row
    assert copy["type"] == "epoch" and copy["epoch"] == 2 and copy.get("val_acc") is None
    assert {**copy} == {"type": "epoch", "epoch": 2, "train_loss": 0.5, "val_acc": None,
                        "elapsed": 3.0, "eta": 6.0}  # fmt: skip
    final = events.Finished("completed", [], "m.pt", "c.pt", 1.0, ["a"], [], {"val_acc": 0.5})
    assert final["val_acc"] == 0.5 and "scores" not in final and final["task"] == "classification"
    failed = events.Failed("data", "no file")
    assert failed.get("details") == [] and failed["weights"] is None


def test_a_dispatch_table_calls_the_handler_of_the_events_class_only():
    seen = []
    dispatch = events.handlers({events.Log: lambda e: seen.append(e.message)})
    dispatch(events.Log("hello"))
    dispatch(events.Paused(1))  # no handler: passes
    assert seen == ["hello"]
    assert set(events.EVENT_TYPES) == {
        "log", "started", "steps", "progress", "epoch", "capture", "paused", "resumed",
        "finished", "failed",
    }  # fmt: skip


def test_nothing_outside_the_task_classes_compares_with_a_task_name():
    names = set(TASKS)
    found = []
    for folder in ("app", "codegen", "graph"):
        for path in (ROOT / folder).rglob("*.py"):
            if path in TASK_MODULES:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Compare):
                    values = [node.left, *node.comparators]
                    if any(isinstance(v, ast.Constant) and v.value in names for v in values):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
