"""Speed on a GPU: data kept on the device when it fits, channels_last for convolutions on
CUDA, and torch.compile when asked; each one leaves the weights and their names unchanged."""

from __future__ import annotations

import torch
from torch import nn

from torchcanvas.app.train.events import Log

DEVICE_SHARE = 0.5  # in-memory data may take this share of the device's free memory
CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)


def fits_on_device(device: torch.device, nbytes: int, free_bytes: int | None = None) -> bool:
    """Whether data of `nbytes` may live on `device` (always on the CPU; on CUDA within a
    share of the free memory, so the model and its activations keep room)."""
    if device.type != "cuda":
        return True
    if free_bytes is None:
        free_bytes, _total = torch.cuda.mem_get_info(device)
    return nbytes <= DEVICE_SHARE * free_bytes


def tensor_bytes(x) -> int:
    """Bytes held by a tensor, or by every tensor of an Inputs."""
    tensors = getattr(x, "tensors", (x,))
    return sum(t.numel() * t.element_size() for t in tensors)


def channels_last_helps(device: torch.device, model: nn.Module, sample_shape) -> bool:
    """channels_last pays on CUDA (tensor cores) for 2-D convolutions on image batches."""
    if device.type != "cuda" or len(tuple(sample_shape)) != 3:
        return False
    return any(isinstance(m, CONV_TYPES) for m in model.modules())


def to_channels_last(x):
    """A 4-D float batch in channels_last order; anything else as it is."""
    if isinstance(x, torch.Tensor) and x.dim() == 4 and x.is_floating_point():
        return x.contiguous(memory_format=torch.channels_last)
    return x


def compiled(model: nn.Module) -> nn.Module:
    """torch.compile'd `model` for the training steps; it shares the parameters, so
    state_dict, optimizer and checkpoints keep using `model` itself."""
    return torch.compile(model)


def speed_line(channels_last: bool, compile_model: bool, on_device: bool, device) -> str:
    """One log line on the speed-ups in use ('' when none applies)."""
    parts = []
    if device.type == "cuda":
        parts.append("data on the GPU" if on_device else "data streamed to the GPU")
    if channels_last:
        parts.append("channels_last")
    if compile_model:
        parts.append("torch.compile (the first steps compile)")
    return ", ".join(parts)


def speed_ups(trainer) -> tuple[bool, nn.Module]:
    """(channels_last, the module the steps call) for a set-up trainer; logs what is used."""
    model, device = trainer.model, trainer.device
    channels_last = channels_last_helps(device, model, trainer.job.input_shape)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    step_model = compiled(model) if trainer.settings.get("compile") else model
    on_device = trainer.feed.home == device
    line = speed_line(channels_last, step_model is not model, on_device, device)
    if line:
        trainer.emit(Log(f"speed: {line}"))
    return channels_last, step_model
