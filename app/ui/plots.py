"""Live training curves: step loss (raw and smoothed), epoch loss and accuracy, learning rate."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must bind to PySide6)
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

REDRAW_SECONDS = 0.5
SMOOTHING = 0.9  # exponential moving average of the step loss
COLORS = {
    "raw": (100, 149, 237, 70),
    "smooth": (30, 90, 200),
    "val": (230, 81, 0),
    "train_acc": (30, 90, 200),
    "val_acc": (230, 81, 0),
    "lr": (67, 160, 71),
}


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#424242", size="9pt")
    plot.setLabel("left", y_label)
    plot.getAxis("left").enableAutoSIPrefix(False)
    # No grid: pyqtgraph draws it with the axes, which then repaint on every curve update.
    item = plot.getPlotItem()
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    item.addLegend(offset=(-10, 10), labelTextSize="8pt")
    return plot


class RunCurves:
    """The data of one run and the curve items that draw it."""

    def __init__(self, plots: dict[str, pg.PlotWidget], faded: bool = False) -> None:
        self.steps: list[float] = []
        self.losses: list[float] = []
        self.smooth: list[float] = []
        self.epochs: list[dict] = []
        self.lr_steps: list[float] = []
        self.lrs: list[float] = []
        self._drawn_epochs = -1
        self.items = {}
        style = Qt.PenStyle.DashLine if faded else Qt.PenStyle.SolidLine
        suffix = " (previous)" if faded else ""
        for key, plot_name, label in (
            ("raw", "loss", "train loss"),
            ("smooth", "loss", "train loss, smoothed"),
            ("val", "loss", "validation loss"),
            ("train_acc", "acc", "train accuracy"),
            ("val_acc", "acc", "validation accuracy"),
            ("lr", "lr", "learning rate"),
        ):
            color = COLORS[key] if not faded else (160, 160, 160, 140)
            pen = pg.mkPen(color, width=1 if key == "raw" else 2, style=style)
            symbol = "o" if key in ("val", "train_acc", "val_acc") else None
            name = None if faded and key == "raw" else label + suffix
            self.items[key] = plots[plot_name].plot(
                [], [], pen=pen, name=name, symbol=symbol, symbolSize=5, symbolBrush=color
            )
        if faded:
            self.items["raw"].hide()

    def add_steps(self, steps: list[int], losses: list[float], lr: float) -> None:
        """Per-step training losses."""
        value = self.smooth[-1] if self.smooth else None
        for step, loss in zip(steps, losses):
            value = loss if value is None else SMOOTHING * value + (1 - SMOOTHING) * loss
            self.steps.append(step)
            self.losses.append(loss)
            self.smooth.append(value)
        if steps:
            self.lr_steps.append(steps[-1])
            self.lrs.append(lr)

    def add_epoch(self, event: dict) -> None:
        """An epoch's train and validation figures."""
        self.epochs.append({**event, "step": self.steps[-1] if self.steps else 0})

    def draw(self) -> None:
        """Push the data to the curve items (once per GUI tick)."""
        self.items["raw"].setData(np.asarray(self.steps), np.asarray(self.losses))
        self.items["smooth"].setData(np.asarray(self.steps), np.asarray(self.smooth))
        if len(self.epochs) == self._drawn_epochs:
            return  # the per-epoch plots only change when an epoch ends
        self._drawn_epochs = len(self.epochs)
        rows = [e for e in self.epochs if e.get("val_loss") is not None]
        x = np.asarray([e["step"] for e in rows])
        self.items["val"].setData(x, np.asarray([e["val_loss"] for e in rows]))
        self.items["val_acc"].setData(x, np.asarray([e["val_acc"] for e in rows]))
        self.items["train_acc"].setData(
            np.asarray([e["step"] for e in self.epochs]),
            np.asarray([e["train_acc"] for e in self.epochs]),
        )
        self.items["lr"].setData(np.asarray(self.lr_steps), np.asarray(self.lrs))

    def remove(self, plots: dict[str, pg.PlotWidget]) -> None:
        """Take this run's curves off the plots."""
        for item in self.items.values():
            for plot in plots.values():
                if item in plot.getPlotItem().items:
                    plot.removeItem(item)


class CurvesView(QWidget):
    """Three stacked plots; a run can be cleared or kept as an overlay for the next."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plots = {
            "loss": _plot("Loss", "loss"),
            "acc": _plot("Accuracy", "accuracy"),
            "lr": _plot("Learning rate", "lr"),
        }
        self.plots["acc"].setYRange(0, 1)
        for name in ("acc", "lr"):
            self.plots[name].setXLink(self.plots["loss"])
        self.plots["loss"].setLabel("bottom", "step")
        self.current = RunCurves(self.plots)
        self.overlays: list[RunCurves] = []
        self._dirty = False
        self._drawn_at = 0.0
        self._total: int | None = None
        self._x_max = 100.0
        self._lr_top: float | None = None
        self.clear_button = QPushButton("Clear")
        self.keep_button = QPushButton("Keep as overlay")
        self.clear_button.clicked.connect(self.clear)
        self.keep_button.clicked.connect(self.keep_as_overlay)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.plots["loss"], 3)
        layout.addWidget(self.plots["acc"], 2)
        layout.addWidget(self.plots["lr"], 1)
        layout.addLayout(buttons)

    def add_steps(self, event: dict) -> None:
        """Queue per-step losses; drawn at the next tick."""
        self.current.add_steps(event["steps"], event["losses"], event["lr"])
        self._dirty = True

    def add_epoch(self, event: dict) -> None:
        """Queue an epoch's figures."""
        self.current.add_epoch(event)
        self._dirty = True

    def tick(self, force: bool = False) -> None:
        """Redraw if anything arrived, at most every REDRAW_SECONDS (painting plots is the
        window's main cost while training, and it competes with training for the CPU)."""
        now = time.monotonic()
        if self._dirty and (force or now - self._drawn_at >= REDRAW_SECONDS):
            self._dirty = False
            self._drawn_at = now
            self.current.draw()
            self._fit_axes()

    def _fit_axes(self) -> None:
        """Grow the step axis by doubling, so that axes are laid out again only a few times
        per run while the curve always fills at least half the width."""
        steps = self.current.steps
        if steps and steps[-1] > self._x_max * 0.98:
            grown = max(self._x_max * 2, steps[-1] * 1.25)
            self._x_max = min(grown, self._total) if self._total else grown
            self.plots["loss"].getPlotItem().setXRange(0, self._x_max, padding=0.02)
        if self.current.lrs:
            top = max(self.current.lrs) * 1.15
            if top != self._lr_top:
                self._lr_top = top
                self.plots["lr"].getPlotItem().setYRange(0, top, padding=0)

    def new_run(self, total_steps: int | None = None) -> None:
        """Start fresh curves for a new run (overlays stay)."""
        self.current.remove(self.plots)
        self.current = RunCurves(self.plots)
        self._total = total_steps
        self._x_max = min(100, total_steps) if total_steps else 100
        self._lr_top = None
        loss = self.plots["loss"].getPlotItem()
        loss.disableAutoRange(axis="x")
        loss.setXRange(0, self._x_max, padding=0.02)
        self.plots["lr"].getPlotItem().disableAutoRange(axis="y")

    def keep_as_overlay(self) -> None:
        """Keep the current run, faded, to compare with the next one."""
        if not self.current.steps:
            return
        faded = RunCurves(self.plots, faded=True)
        for key in ("steps", "losses", "smooth", "epochs", "lr_steps", "lrs"):
            setattr(faded, key, list(getattr(self.current, key)))
        faded.draw()
        self.overlays.append(faded)
        self.new_run()

    def clear(self) -> None:
        """Remove every curve."""
        for run in self.overlays:
            run.remove(self.plots)
        self.overlays = []
        self.new_run()

    def point_count(self) -> int:
        """Step-loss points of the current run (for tests)."""
        return len(self.current.steps)
