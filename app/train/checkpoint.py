"""Checkpoints for --resume: written per epoch, checked field by field before a run resumes."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from torchcanvas.app.train import events
from torchcanvas.app.train.core.records import (
    CHECKPOINT_VERSION,
    checkpoint_state,
    cpu_state,
    metrics_bytes,
    state_bytes,
)
from torchcanvas.app.train.preprocess import (
    PreprocessError,
    check_record,
    misfit,
    record_bytes,
    stats_of,
)
from torchcanvas.app.train.runfolder import resolve
from torchcanvas.app.train.weights import CHECKPOINT_FORMAT, WeightsError, safe_load
from torchcanvas.app.train.weights_io import WeightsFileError, check_tensors
from torchcanvas.codegen.fingerprint import same_design
from torchcanvas.graph.settings import TRAINING_INDEX

MAX_EPOCHS = TRAINING_INDEX["epochs"].maximum
LISTED = 6  # tensors named in a message; the rest are counted


class CheckpointError(WeightsError):
    """A checkpoint that is damaged or does not fit the run it should continue."""


def epoch_files(
    model,
    optimizer,
    scheduler,
    epoch: int,
    settings: dict,
    source_hash: str,
    history: list,
    preprocess: dict | None = None,
    columns: tuple = (),
) -> dict[str, bytes]:
    """An epoch's run files, role -> bytes: model.pt, checkpoint.pt, metrics.csv (with the
    task's `columns`) and, with the data's record, preprocess.json (the statistics travel
    with the weights)."""
    files = {
        "model": model_bytes(model),
        "checkpoint": checkpoint_bytes(
            model, optimizer, scheduler, epoch, settings, source_hash, history, preprocess
        ),
        "metrics": metrics_bytes(history, columns),
    }
    if preprocess is not None:
        files["preprocess"] = record_bytes(preprocess)
    return files


def model_bytes(model) -> bytes:
    """The model's state_dict on the CPU, as torch.save writes it (model.pt)."""
    return state_bytes(cpu_state(model))


def checkpoint_bytes(
    model,
    optimizer,
    scheduler,
    epoch: int,
    settings: dict,
    source_hash: str,
    history: list,
    preprocess: dict | None = None,
) -> bytes:
    """A resumable checkpoint, serialized so that torch.load(..., weights_only=True) reads it."""
    data = checkpoint_state(model, optimizer, scheduler, epoch, settings, source_hash, history)
    if preprocess is not None:  # JSON types only, which weights_only=True reads back
        data["preprocess"] = preprocess
    return state_bytes(data)


def read_checkpoint(path, source_hash: str) -> dict:
    """Load a checkpoint (a run folder's committed one) for resuming; refuse a damaged one
    or one saved for another design (`source_hash`: weights.graph_hash of the source)."""
    path = resolve(path, "checkpoint")
    data = safe_load(path)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path.name}: not a TorchCanvas checkpoint; load it as weights.")
    if not same_design(data.get("graph_hash"), source_hash):
        raise CheckpointError(
            f"{path.name} was saved for a different graph; the network "
            f"changed since, so resume is not possible (load it as weights)."
        )
    problems = field_problems(data)
    if problems:
        raise CheckpointError(f"{path.name} is damaged: {'; '.join(problems)}")
    try:
        check_tensors(data["model"], path.name)  # meta, sparse or quantized: no values to load
    except WeightsFileError as error:
        raise CheckpointError(str(error)) from None
    return data


def _kind(value) -> str:
    return type(value).__name__


def field_problems(data: dict) -> list[str]:
    """What is wrong with the checkpoint's fields, checked before anything uses them."""
    problems = []
    version, epoch = data.get("version"), data.get("epoch")
    if type(version) is not int or not 1 <= version <= CHECKPOINT_VERSION:
        problems.append(f"version {version!r} is not one this TorchCanvas reads")
    if type(epoch) is not int:  # bool is an int subclass; `type` refuses it too
        problems.append(f"epoch is {_kind(epoch)} {epoch!r}, not a whole number")
    elif epoch < 0:
        problems.append(f"epoch {epoch} is negative")
    elif epoch > MAX_EPOCHS:
        problems.append(f"epoch {epoch} is more than a run can have ({MAX_EPOCHS})")
    model = data.get("model")
    if (
        not isinstance(model, Mapping)
        or not model
        or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in model.items())
    ):
        problems.append(f"model is {_kind(model)}, not a state_dict of tensors")
    problems += _optimizer_problems(data.get("optimizer"))
    if data.get("scheduler") is not None and not isinstance(data["scheduler"], dict):
        problems.append(f"scheduler is {_kind(data['scheduler'])}, not a scheduler state")
    if not isinstance(data.get("settings"), dict):
        problems.append(f"settings is {_kind(data.get('settings'))}, not a dict")
    history = data.get("history")
    if not isinstance(history, list) or not all(
        isinstance(row, dict) and type(row.get("epoch")) is int for row in history
    ):
        problems.append(f"history is {_kind(history)}, not a list of epoch rows")
    if data.get("preprocess") is not None:  # absent in checkpoints from before it existed
        try:
            check_record(data["preprocess"], "preprocess")
        except PreprocessError as error:
            problems.append(str(error))
    return problems


def saved_stats(data: dict | None, specs: list, source: str, emit) -> dict:
    """load_data's keyword for a resumed run's saved statistics ({} without them: recomputed,
    with a log note, so a checkpoint from before they were saved still resumes)."""
    if data is None:
        return {}
    record = data.get("preprocess")
    problem = "the checkpoint is older than saved statistics" if record is None else None
    problem = problem or misfit(record, specs, source)
    if problem:
        message = f"training statistics recomputed from the training split ({problem})"
        emit(events.Log(message))
        return {}
    stats = stats_of(record)
    return {"stats": stats} if stats else {}


def _optimizer_problems(state) -> list[str]:
    groups = state.get("param_groups") if isinstance(state, dict) else None
    if not (
        isinstance(state, dict)
        and isinstance(state.get("state"), dict)
        and isinstance(groups, list)
        and all(isinstance(g, dict) and _indexes(g.get("params")) for g in groups)
    ):
        return [f"optimizer is {_kind(state)}, not an optimizer state"]
    return []


def _indexes(value) -> bool:
    return isinstance(value, list) and all(type(item) is int for item in value)


def epoch_problem(data: dict, epochs: int) -> str | None:
    """Why the checkpoint's epoch leaves nothing to train with `epochs`, or None."""
    epoch = data["epoch"]
    if epoch < epochs:
        return None
    return (
        f"the checkpoint is already at epoch {epoch} and the settings train {epochs} "
        f"epochs, so nothing is left to train; raise --epochs above {epoch} to train more"
    )


def fit_problem(data: dict, model, optimizer, scheduler, settings: dict) -> str | None:
    """Why this checkpoint's state does not fit this design and these settings, or None."""
    return (
        _optimizer_misfit(data, optimizer)
        or _scheduler_misfit(data, scheduler, settings)
        or _model_misfit(data["model"], model)
        or _state_misfit(data["optimizer"], model, optimizer)
    )


def _optimizer_misfit(data: dict, optimizer) -> str | None:
    saved = data.get("optimizer_type") or data["settings"].get("optimizer")
    current = type(optimizer).__name__
    if isinstance(saved, str) and saved != current:
        return (
            f"the checkpoint was trained with {saved}; the settings say {current}: "
            f"resume with {saved} or start fresh (without --resume)"
        )
    groups, own = data["optimizer"]["param_groups"], optimizer.param_groups
    if len(groups) != len(own):
        return (
            f"the checkpoint's optimizer has {len(groups)} parameter groups; "
            f"this run has {len(own)} (frozen layers or learning-rate factors changed "
            f"since): start fresh (without --resume)"
        )
    for index, (group, mine) in enumerate(zip(groups, own)):
        if len(group["params"]) != len(mine["params"]):
            return (
                f"parameter group {index} of the checkpoint's optimizer holds "
                f"{len(group['params'])} tensors; the model has {len(mine['params'])} "
                f"(frozen layers, or whether they unfreeze (unfreeze_epoch), changed since): "
                f"start fresh (without --resume)"
            )
    return None


def _state_misfit(saved: dict, model, optimizer) -> str | None:
    """Per-parameter optimizer state (momentum, exp_avg...) must have its parameter's shape.

    The optimizer holds the trainable parameters only (frozen ones are left out), in its
    groups' order: the saved ids pair with those, by name for the messages."""
    ids = [pid for group in saved["param_groups"] for pid in group["params"]]
    names = {id(p): n for n, p in model.named_parameters()}
    held = [(names.get(id(p), "?"), p) for g in optimizer.param_groups for p in g["params"]]
    for pid, (name, param) in zip(ids, held):
        entry = saved["state"].get(pid, {})
        if not isinstance(entry, dict):
            return f"the checkpoint's optimizer state for {name} is not a dict of tensors"
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and value.ndim and value.shape != param.shape:
                return (
                    f"the checkpoint's optimizer state {key} of {name} is "
                    f"{_shape(value.shape)}; the parameter is {_shape(param.shape)}"
                )
    return None


def _scheduler_misfit(data: dict, scheduler, settings: dict) -> str | None:
    saved = data["settings"].get("schedule")
    if scheduler is None or data.get("scheduler") is None or not isinstance(saved, str):
        return None  # nothing to load into, or nothing to load
    if saved != settings["schedule"]:
        return (
            f"the checkpoint was trained with the {saved} schedule; the settings say "
            f"{settings['schedule']}: resume with {saved} or start fresh (without --resume)"
        )
    return None


def _model_misfit(state: Mapping, model) -> str | None:
    own = model.state_dict()
    wrong = [f"missing {k}" for k in own if k not in state]
    wrong += [f"unexpected {k}" for k in state if k not in own]
    for key, tensor in state.items():
        if key in own and tuple(tensor.shape) != tuple(own[key].shape):
            shapes = f"{_shape(tensor.shape)} (design {_shape(own[key].shape)})"
            wrong.append(f"wrong shape {key} {shapes}")
    if not wrong:
        return None
    more = f" and {len(wrong) - LISTED} more" if len(wrong) > LISTED else ""
    return (
        f"the checkpoint's model does not fit the design: {', '.join(wrong[:LISTED])}{more}; "
        f"start fresh (without --resume) or load it as weights with --partial"
    )


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) or "scalar"
