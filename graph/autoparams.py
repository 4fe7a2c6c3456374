"""Auto parameters: values such as in_channels that are read off the incoming tensor."""

from __future__ import annotations

from dataclasses import dataclass

from torchcanvas.graph.ports import TensorMeta


@dataclass(frozen=True)
class AutoRule:
    """How one kind of auto parameter is read from a tensor, and how it is named."""

    label: str

    def value(self, meta: TensorMeta):
        """The value the incoming tensor implies."""
        raise NotImplementedError

    def fits(self, pinned, meta: TensorMeta) -> bool:
        """Whether a pinned value agrees with the incoming tensor."""
        return pinned == self.value(meta)


class _Channels(AutoRule):
    def value(self, meta: TensorMeta):
        sample = meta.per_sample
        return sample[0] if sample else None


class _LastDim(AutoRule):
    def value(self, meta: TensorMeta):
        sample = meta.per_sample
        return sample[-1] if sample else None


class _TrailingShape(AutoRule):
    def value(self, meta: TensorMeta):
        sample = meta.per_sample
        return (sample[-1],) if sample else None

    def fits(self, pinned, meta: TensorMeta) -> bool:
        sample = meta.per_sample
        return len(pinned) <= len(sample) and tuple(sample[len(sample) - len(pinned) :]) == tuple(
            pinned
        )


RULES: dict[str, AutoRule] = {
    "channels": _Channels("input channels"),
    "features": _LastDim("input features"),
    "last_dim": _TrailingShape("trailing dimensions"),
}
