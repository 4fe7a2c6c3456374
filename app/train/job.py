"""A training job: everything the loop needs, as plain picklable data."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchcanvas.codegen.emit import emit_module

LOSS_NEEDS_LABELS = ("CrossEntropyLoss", "NLLLoss")


@dataclass
class TrainJob:
    """The generated source plus settings; crosses the process boundary as is."""

    source: str
    class_name: str
    node_lines: dict[int, str]
    settings: dict
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    out_dir: str
    weights: str | None = None  # a state_dict to start from
    partial: bool = False  # load `weights` partially (matched tensors only)
    resume: str | None = None  # a checkpoint to continue from
    capture_nodes: list[str] = field(default_factory=list)
    map_nodes: list[str] | None = None  # nodes whose pictures are sent (None: all captured)
    capture_interval: float = 0.5
    max_steps: int | None = None  # stop after this many steps (tests, benchmarks)


def job_from_project(project, out_dir: str, **overrides) -> TrainJob:
    """A TrainJob for `project`; CodegenError if the graph has problems."""
    model = project.model
    analysis = model.analysis()
    result = emit_module(model, analysis=analysis)
    inputs = model.nodes_of_type("Input")
    outputs = model.nodes_of_type("Output")
    settings = dict(project.training)
    settings.update({k: overrides.pop(k) for k in list(overrides) if k in settings})
    return TrainJob(
        result.source,
        result.class_name,
        result.node_lines,
        settings,
        analysis.shapes[inputs[0]],
        analysis.shapes[outputs[0]],
        str(out_dir),
        **overrides,
    )


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
