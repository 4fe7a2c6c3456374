"""LossGuard: a NaN or inf loss never reaches the weights, and the last good state is kept."""

from __future__ import annotations

import math

import torch

GROUP = 20  # on accelerators, losses are checked in groups to avoid a sync per step


class NonFiniteLoss(Exception):
    """The loss of `step` was NaN or inf; the model is back at its last good state."""

    def __init__(self, step: int, value: float) -> None:
        super().__init__(f"non-finite loss {value} at step {step}")
        self.step, self.value = step, value


class LossGuard:
    """Collects step losses and checks them; restores the last good state on a bad one.

    On the CPU each loss is checked before backward (reading it is free there), so the
    weights never see a bad step; only batch-norm statistics, updated by the forward pass,
    need restoring. On an accelerator, losses stay on the device and are checked every
    GROUP steps; the weights are snapshotted after each good group and restored on a bad one.
    """

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.model = model
        self.on_cpu = device.type == "cpu"
        self.pending: list[tuple[int, float | torch.Tensor]] = []
        self._buffers = [b for b in model.buffers() if b.is_floating_point()] if self.on_cpu else []
        self._copies = [b.detach().clone() for b in self._buffers]
        self._snapshot = None if self.on_cpu else self._state()

    def before_forward(self) -> None:
        """Remember the batch-norm statistics the coming forward pass will change."""
        if self._buffers:
            torch._foreach_copy_(self._copies, self._buffers)

    def record(self, step: int, loss: torch.Tensor) -> bool:
        """Add a step's loss; True when a group is full and should be drained."""
        if not self.on_cpu:
            self.pending.append((step, loss.detach()))
            return len(self.pending) >= GROUP
        value = loss.item()
        if not math.isfinite(value):
            if self._buffers:
                with torch.no_grad():
                    torch._foreach_copy_(self._buffers, self._copies)
            raise NonFiniteLoss(step, value)
        self.pending.append((step, value))
        return False

    def drain(self) -> tuple[list[int], list[float]]:
        """The recorded steps and losses as plain numbers, checked."""
        steps = [step for step, _ in self.pending]
        values = [value for _, value in self.pending]
        self.pending = []
        if values and isinstance(values[0], torch.Tensor):  # one copy for many steps
            values = torch.stack(values).float().cpu().tolist()
            bad = [(s, v) for s, v in zip(steps, values) if not math.isfinite(v)]
            if bad:
                self.model.load_state_dict(self._snapshot)
                raise NonFiniteLoss(*bad[0])
            self._snapshot = self._state()
        return steps, values

    def _state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}
