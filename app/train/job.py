"""A training job: everything the loop needs, as plain picklable data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.memory import activation_bytes

START_GIVEN, START_RESUME, START_FILE, START_FRESH = "given", "resume", "file", "fresh"


class TrainingRefused(ValueError):
    """The design cannot be trained (yet); the message says why and what to change."""


@dataclass
class TrainJob:
    """The generated source plus settings; crosses the process boundary as is."""

    source: str
    class_name: str
    node_lines: dict[int, str]  # generated line -> node id
    settings: dict
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    out_dir: str
    weights: str | None = None  # a state_dict to start from
    partial: bool = False  # load `weights` partially (matched tensors only)
    resume: str | None = None  # a checkpoint to continue from
    capture_nodes: dict[str, str] = field(default_factory=dict)  # node id -> module path
    map_nodes: list[str] | None = None  # ids whose pictures are sent (None: all captured)
    node_names: dict[str, str] = field(default_factory=dict)  # node id -> name, for messages
    capture_interval: float = 0.5
    max_steps: int | None = None  # stop after this many steps (tests, benchmarks)
    activation_bytes: int = 0  # one sample's outputs of every layer, for out-of-memory advice
    tensorboard_dir: str | None = None  # write TensorBoard summaries here (tensorboard.py)
    input_name: str = "x"  # the Input node's name: the npz array it reads
    inputs: list = field(default_factory=list)  # InputSpecs in forward order (all Inputs)
    pipeline: dict | None = None  # the project's pretrained preprocessing (graph.pipeline)


def training_problem(analysis) -> str | None:
    """Why a valid design cannot be trained, or None (the data source is checked on loading)."""
    if len(analysis.outputs) != 1:
        return (
            f"the model has {len(analysis.outputs)} Outputs; training takes a model with one "
            f"Output (export it to train it in your own code)"
        )
    if not analysis.inputs:
        return "the model has no Input; add one for the data to enter"
    output = analysis.meta(analysis.outputs[0])
    if output.batch_dim != 0:
        return f"the Output receives {output.text()}; its first dimension must be the batch"
    return None


def starting_weights(settings: dict, weights=None, resume=None) -> tuple[str, str | None]:
    """Where a run's weights come from: (START_GIVEN, path) for weights passed in (the
    window's current weights, --weights), (START_RESUME, checkpoint), (START_FILE, path) for
    the project's weights_file, or (START_FRESH, None): initialized from the seed."""
    if resume:
        return START_RESUME, str(resume)
    if weights:
        return START_GIVEN, str(weights)
    if settings.get("weights_file"):
        return START_FILE, str(Path(settings["weights_file"]).expanduser())
    return START_FRESH, None


def missing_start(path: str) -> str:
    """The message for a weights_file that is not there."""
    return (
        f"the project's starting weights {path} (weights_file) are missing: put the file "
        f"back, or clear weights_file to start from fresh weights"
    )


def job_from_project(project, out_dir: str, **overrides) -> TrainJob:
    """A TrainJob for `project`; CodegenError for graph problems, TrainingRefused otherwise."""
    from torchcanvas.app.train.inputs import input_specs

    model = project.model
    analysis = model.analysis()
    result = emit_module(model, analysis=analysis)
    problem = training_problem(analysis)
    if problem:
        raise TrainingRefused(problem)
    settings = dict(project.training)
    settings.update({k: overrides.pop(k) for k in list(overrides) if k in settings})
    kind, start = starting_weights(settings, overrides.get("weights"), overrides.get("resume"))
    if kind == START_FILE:
        if not Path(start).is_file():
            raise TrainingRefused(missing_start(start))
        overrides.update(weights=start, partial=True)  # a replaced head starts afresh
    return TrainJob(
        result.source,
        result.class_name,
        result.node_lines,
        settings,
        analysis.meta(analysis.inputs[0]).per_sample,
        analysis.meta(analysis.outputs[0]).per_sample,
        str(out_dir),
        node_names=result.labels,
        activation_bytes=activation_bytes(analysis),
        input_name=analysis.names[analysis.inputs[0]],
        inputs=input_specs(analysis),
        pipeline=project.preprocess,
        **overrides,
    )


def module_nodes(model) -> dict[str, str]:
    """node id -> module path, for every live node that owns an nn.Module (capture targets)."""
    from torchcanvas.graph.registry import BLOCK, MODULE

    analysis = model.analysis()
    return {
        node: analysis.names[node]
        for node in analysis.order
        if node in analysis.live and model.spec(node).kind in (MODULE, BLOCK)
    }


def resolve_device(name: str):
    """The torch.device for a setting; 'auto' picks CUDA, then MPS, then the CPU."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        return torch.device("mps" if mps is not None and mps.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was chosen but no CUDA device is available; choose cpu or auto")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("MPS was chosen but is not available here; choose cpu or auto")
    return torch.device(name)


def available_devices() -> list[str]:
    """Device settings that work on this machine."""
    import torch

    found = ["auto", "cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found
