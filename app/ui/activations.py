"""Live activations of the selected node: feature maps or a vector, a histogram, sparklines."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must bind to PySide6)
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

HISTORY = 400  # sparkline points kept per node and statistic
STATS = (
    ("mean", "mean"),
    ("std", "std"),
    ("zeros", "fraction of zeros"),
    ("grad", "gradient norm"),
)
DEAD_ZEROS = 0.99
VANISHING, EXPLODING = 1e-7, 1e3


def mosaic(maps: np.ndarray, gap: int = 1) -> np.ndarray:
    """Tile (C, H, W) maps into one 2-D image, each map scaled to 0..1, NaN between tiles."""
    channels, height, width = maps.shape
    columns = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / columns)
    image = np.full(
        (rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, dtype=np.float32
    )
    for index in range(channels):
        tile = maps[index].astype(np.float32)
        low, high = float(np.min(tile)), float(np.max(tile))
        tile = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        r, c = divmod(index, columns)
        image[
            r * (height + gap) : r * (height + gap) + height,
            c * (width + gap) : c * (width + gap) + width,
        ] = tile
    return image


def badge_for(stats: dict) -> str:
    """A warning for a node that looks dead or whose gradients vanish or explode."""
    if stats.get("zeros", 0.0) >= DEAD_ZEROS:
        return "dead: almost all outputs are zero"
    grad = stats.get("grad", stats.get("out_grad"))
    if grad is not None and grad < VANISHING:
        return f"vanishing gradient ({grad:.1e})"
    if grad is not None and (grad > EXPLODING or not math.isfinite(grad)):
        return f"exploding gradient ({grad:.1e})"
    return ""


class ActivationView(QWidget):
    """Shows what the training process captured for the node selected on the canvas."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.node: str | None = None  # id of the node shown
        self.label = ""  # its name
        self.history: dict[str, dict[str, deque]] = {}
        self.latest: dict[str, dict] = {}
        self.title = QLabel("Select a node on the canvas, then train, to see its activations.")
        # One line, cut at the dock's edge: a wrapping label makes the dock's scroll area
        # size the whole view by its preferred height (716 px) and hide the maps below.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.picture = pg.PlotWidget(background="w")
        self.picture.setAspectLocked(True)
        self.picture.hideAxis("left")
        self.picture.hideAxis("bottom")
        self.picture.invertY(True)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.picture.addItem(self.image)
        self.histogram = pg.PlotWidget(background="w", title="histogram (probe sample)")
        self.histogram.getPlotItem().hideAxis("left")
        self.hist_curve = self.histogram.plot(
            [0, 1], [0], stepMode="center", fillLevel=0, brush=(30, 90, 200, 120), pen=(30, 90, 200)
        )
        self.sparks = {key: self._sparkline(label) for key, label in STATS}
        self.badge = QLabel()
        self.badge.setStyleSheet("color: #e65100; font-weight: bold;")
        grid = QGridLayout()
        for index, (key, _label) in enumerate(STATS):
            grid.addWidget(self.sparks[key][0], index // 2, index % 2)
        side = QVBoxLayout()
        side.addWidget(self.histogram, 1)
        side.addLayout(grid, 2)
        body = QHBoxLayout()
        body.addWidget(self.picture, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.badge)
        layout.addLayout(body, 1)

    def _sparkline(self, label: str):
        plot = pg.PlotWidget(background="w", title=label)
        plot.setTitle(label, size="8pt", color="#616161")
        plot.hideAxis("bottom")
        plot.hideAxis("left")  # sparklines show the trend; the title line gives the values
        plot.setMaximumHeight(90)
        curve = plot.plot([], [], pen=pg.mkPen((30, 90, 200), width=1.5))
        return plot, curve

    # ----- data -------------------------------------------------------------------
    def add_capture(self, event: dict) -> None:
        """Record a capture event's statistics and pictures."""
        for node, stats in event["nodes"].items():
            store = self.history.setdefault(node, {key: deque(maxlen=HISTORY) for key, _ in STATS})
            for key, _label in STATS:
                value = stats.get(key, stats.get("out_grad") if key == "grad" else None)
                if value is not None:
                    store[key].append(value)
            previous = self.latest.get(node, {})
            self.latest[node] = {**{k: v for k, v in previous.items() if k == "map"}, **stats}
        if self.node in event["nodes"]:
            self.refresh()

    def set_node(self, node: str | None, label: str = "") -> None:
        """Show another node (by id; `label` is its name)."""
        self.node, self.label = node, label or (node or "")
        self.refresh()

    def clear(self) -> None:
        """Forget everything captured (a new run starts)."""
        self.history, self.latest = {}, {}
        self.refresh()

    def refresh(self) -> None:
        """Draw the selected node's latest capture."""
        stats = self.latest.get(self.node or "", {})
        if self.node is None:
            self.title.setText("Select a node on the canvas to see its activations.")
        elif not stats:
            self.title.setText(f"<b>{self.label}</b>: nothing captured yet (train to see it).")
        else:
            grad = stats.get("grad", stats.get("out_grad"))
            grad_text = f", gradient norm {grad:.3g}" if grad is not None else ""
            self.title.setText(
                f"<b>{self.label}</b>: mean {stats['mean']:.3g}, std "
                f"{stats['std']:.3g}, zeros {stats['zeros']:.0%}{grad_text}"
            )
        self.badge.setText(badge_for(stats) if stats else "")
        picture = stats.get("map")
        self._show_picture(picture)
        for key, (_plot, curve) in self.sparks.items():
            values = self.history.get(self.node or "", {}).get(key, [])
            curve.setData(np.arange(len(values)), np.asarray(values, dtype=float))

    def _show_picture(self, picture) -> None:
        if picture is None:
            self.image.clear()
            self.hist_curve.setData([0, 1], [0])
            return
        data = np.asarray(picture, dtype=np.float32)
        image = mosaic(data) if data.ndim == 3 else _strip(data)
        self.image.setImage(np.nan_to_num(image.T, nan=0.0), levels=(0.0, 1.0))
        self.picture.autoRange()
        counts, edges = np.histogram(data[np.isfinite(data)], bins=30)
        self.hist_curve.setData(edges, counts)

    def shown_kind(self) -> str:
        """'maps', 'vector' or 'none' (for tests)."""
        picture = self.latest.get(self.node or "", {}).get("map")
        if picture is None:
            return "none"
        return "maps" if np.asarray(picture).ndim == 3 else "vector"


def _strip(vector: np.ndarray) -> np.ndarray:
    """A vector as a heat strip, scaled to 0..1, a few pixels high."""
    low, high = float(np.min(vector)), float(np.max(vector))
    scaled = (vector - low) / (high - low) if high > low else np.zeros_like(vector)
    return np.repeat(scaled[None, :], max(1, len(vector) // 12), axis=0)
