"""Activation and gradient capture with hooks, throttled by time, without a sync per step."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from torchcanvas.app.train.inputs import call, first

MAP_CHANNELS = 16  # feature maps sent per node
MAP_SIZE = 16  # each downsampled to at most MAP_SIZE x MAP_SIZE
VECTOR_SIZE = 128  # vectors downsampled to at most this many values
STAT_SAMPLES = 16  # batch samples the statistics are computed on


class Capture:
    """Summaries of chosen nodes: stats on a training batch, maps of one probe sample."""

    def __init__(
        self, model: torch.nn.Module, probe: torch.Tensor | tuple | None, interval: float = 0.5
    ) -> None:
        self.model = model
        # one sample with its batch dimension, on the model's device (a tuple: several Inputs)
        self.probe = probe
        self.interval = interval
        self.nodes: dict[str, torch.nn.Module] = {}  # node id -> its module
        self.map_nodes: list[str] = []
        self._next = 0.0
        self._handles: list = []
        self._stats: dict[str, dict[str, torch.Tensor]] = {}
        self._pending: tuple | None = None

    def set_nodes(self, nodes: dict[str, str], map_nodes: list[str] | None = None) -> None:
        """Capture statistics of `nodes` (id -> module path) and pictures of `map_nodes`.

        `map_nodes` defaults to all of them; an empty `nodes` turns capture off.
        """
        self.nodes = {}
        for node, path in nodes.items():
            try:
                self.nodes[node] = self.model.get_submodule(path)
            except AttributeError:
                continue  # not a module of this model: nothing to hook
        wanted = list(self.nodes) if map_nodes is None else map_nodes
        self.map_nodes = [n for n in wanted if n in self.nodes]

    @property
    def enabled(self) -> bool:
        """Whether any node is being captured."""
        return bool(self.nodes)

    def due(self) -> bool:
        """True when this step should be captured (at most once per `interval`)."""
        if not self.nodes or self._pending is not None:
            return False
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.interval
        return True

    def attach(self) -> None:
        """Hook the chosen modules for one training step."""
        self._stats = {}
        for node, module in self.nodes.items():
            self._handles.append(module.register_forward_hook(self._forward_hook(node)))

    def _forward_hook(self, name: str):
        def hook(_module, _inputs, output):
            output = _first_tensor(output)
            if output is None:
                return
            # A slice of the batch describes the distribution well at a fraction of the cost.
            value = output.detach()[:STAT_SAMPLES]
            if not value.is_floating_point():
                value = value.float()
            if value.numel() > 1:
                std, mean = torch.std_mean(value)
            else:
                std, mean = value.new_zeros(()), value.mean()
            zeros = 1.0 - torch.count_nonzero(value) / max(value.numel(), 1)
            stats = {"mean": mean, "std": std, "zeros": zeros}
            self._stats[name] = stats
            if output.requires_grad:
                output.register_hook(
                    lambda grad: stats.__setitem__("out_grad", torch.linalg.vector_norm(grad))
                )

        return hook

    def finish_step(self, step: int) -> None:
        """After backward: add parameter-gradient norms, run the probe, start the copy."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for name, stats in self._stats.items():
            grads = [p.grad for p in self.nodes[name].parameters() if p.grad is not None]
            if grads:
                stats["grad"] = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        maps = self._probe_maps()
        payload = {"stats": self._stats, "maps": maps}
        on_cuda = self.probe is not None and first(self.probe).device.type == "cuda"
        copied = _to_cpu(payload, non_blocking=on_cuda)
        event = None
        if on_cuda:
            event = torch.cuda.Event()
            event.record()
        self._pending = (step, copied, event)
        self._stats = {}

    def _probe_maps(self) -> dict[str, torch.Tensor]:
        if self.probe is None or not self.map_nodes:
            return {}
        outputs: dict[str, torch.Tensor] = {}
        handles = [
            self.nodes[node].register_forward_hook(
                lambda _m, _i, out, node=node: outputs.__setitem__(node, _detached(out))
            )
            for node in self.map_nodes
        ]
        was_training = self.model.training
        try:
            self.model.eval()
            with torch.no_grad():
                call(self.model, self.probe)
        finally:
            self.model.train(was_training)
            for handle in handles:
                handle.remove()
        return {
            node: shrink(out[0].float())
            for node, out in outputs.items()
            if isinstance(out, torch.Tensor)
        }

    def collect(self) -> dict | None:
        """The finished capture as plain Python data, once its copy is done; else None."""
        if self._pending is None:
            return None
        step, copied, event = self._pending
        if event is not None and not event.query():
            return None  # the device is still busy; try again next step rather than wait
        self._pending = None
        nodes = {}
        for name, stats in copied["stats"].items():
            nodes[name] = {key: float(value) for key, value in stats.items()}
        for name, tensor in copied["maps"].items():
            nodes.setdefault(name, {})["map"] = tensor.numpy()
        return {"type": "capture", "step": step, "nodes": nodes}


def shrink(value: torch.Tensor) -> torch.Tensor:
    """A small picture of one sample's output: a few channel maps, or a short vector."""
    if value.ndim == 3:
        maps = value[:MAP_CHANNELS]
        height, width = maps.shape[-2:]
        if height > MAP_SIZE or width > MAP_SIZE:
            maps = F.adaptive_avg_pool2d(maps, (min(height, MAP_SIZE), min(width, MAP_SIZE)))
        return maps
    flat = value.reshape(-1)
    if flat.numel() > VECTOR_SIZE:
        flat = F.adaptive_avg_pool1d(flat.view(1, 1, -1), VECTOR_SIZE).view(-1)
    return flat


def _to_cpu(data, non_blocking: bool):
    if isinstance(data, dict):
        return {key: _to_cpu(value, non_blocking) for key, value in data.items()}
    return data.to("cpu", non_blocking=non_blocking)


def _first_tensor(output) -> torch.Tensor | None:
    """A module's main output: the tensor itself, or the first of a tuple (LSTM, attention)."""
    while isinstance(output, (tuple, list)) and output:
        output = output[0]
    return output if isinstance(output, torch.Tensor) else None


def _detached(output) -> torch.Tensor | None:
    tensor = _first_tensor(output)
    return tensor.detach() if tensor is not None else None
