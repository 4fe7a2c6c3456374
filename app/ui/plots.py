"""Live training curves: step loss (raw and smoothed), epoch loss and accuracy, learning rate."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must bind to PySide6)
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QGraphicsGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from torchcanvas.app.train.tasks import task_named

REDRAW_SECONDS = 0.5
SMOOTHING = 0.9  # exponential moving average of the step loss
COLORS = {
    "raw": (100, 149, 237, 70),
    "smooth": (30, 90, 200),
    "val": (230, 81, 0),
    "train_acc": (30, 90, 200),
    "val_acc": (230, 81, 0),
    "val_r2": (230, 81, 0),
    "lr": (67, 160, 71),
}


LR_PLOT_HEIGHT = 100  # legend, a strip of curve, the step axis and its label
AXIS_WIDTH = 46  # the same for all three plots, so that their step axes line up
LEGEND_ROW = 0  # the PlotItem's title row holds the legend, above the data
LEGEND_GAP = 8  # pixels between legend entries
LEGEND_LINE_OVERLAP = -6  # a LabelItem is taller than its text: pull the lines together


class CompactAxis(pg.AxisItem):
    """Tick labels that fit the fixed axis width: 40000 -> 40k, 2500000 -> 2.5M."""

    def tickStrings(self, values, scale, spacing):
        """pyqtgraph's labels, with thousands and millions written short."""
        if max((abs(v) for v in values), default=0) < 10_000:
            return super().tickStrings(values, scale, spacing)
        return [compact_number(v * scale) for v in values]


def compact_number(value: float) -> str:
    """12000 -> '12k', 1500000 -> '1.5M' (for axes where 5 digits do not fit)."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _plot(y_label: str, x_axis: bool = False) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w", axisItems={"left": CompactAxis("left")})
    item = plot.getPlotItem()
    item.setLabel("left", y_label)
    left = item.getAxis("left")
    left.enableAutoSIPrefix(False)
    left.setWidth(AXIS_WIDTH)
    if x_axis:
        item.setLabel("bottom", "step")
    else:  # the plots share the step axis: only the lowest one labels it
        item.getAxis("bottom").setStyle(showValues=False)
        item.getAxis("bottom").setHeight(4)
    # No grid: pyqtgraph draws it with the axes, which then repaint on every curve update.
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    # A legend in the title row, outside the data; curves named in plot() join it.
    # (An offset of 0 would anchor it to the bottom: pyqtgraph reads <= 0 as "from the end".)
    legend = pg.LegendItem(offset=(AXIS_WIDTH, 1), labelTextSize="8pt", frame=False)
    legend.setParentItem(item)
    item.legend = legend
    return plot


def fit_legend(plot: pg.PlotWidget) -> None:
    """Lay the legend out in as many columns as fit, and give its row that height."""
    item = plot.getPlotItem()
    legend = item.legend
    room = max(plot.width() - AXIS_WIDTH - 4, 1)
    widths = [  # preferred widths: the grid stretches labels to its widest column
        sample.boundingRect().width() + label.item.boundingRect().width() + LEGEND_GAP
        for sample, label in legend.items
    ]
    columns = max(1, len(widths))
    while columns > 1 and _columns_width(widths, columns) > room:
        columns -= 1
    # LegendItem.setColumnCount keeps the grid's old cells: place the entries in a new one.
    for index in range(legend.layout.count() - 1, -1, -1):
        legend.layout.removeAt(index)
    grid = QGraphicsGridLayout()
    grid.setHorizontalSpacing(2)
    grid.setVerticalSpacing(LEGEND_LINE_OVERLAP)
    grid.setContentsMargins(0, 1, 0, 0)
    for index, (sample, label) in enumerate(legend.items):
        row, column = divmod(index, columns)
        grid.addItem(sample, row, 2 * column, alignment=Qt.AlignmentFlag.AlignVCenter)
        grid.addItem(label, row, 2 * column + 1)
    legend.setLayout(grid)
    legend.layout, legend.columnCount = grid, columns
    rows = -(-len(widths) // columns)
    line = max((label.item.boundingRect().height() for _s, label in legend.items), default=0)
    height = rows * line + (rows - 1) * LEGEND_LINE_OVERLAP + 2 if widths else 4
    # (LegendItem.updateSize leaves out the spacing, and the grid spreads the difference.)
    legend.resize(_columns_width(widths, columns) if widths else 0, height)
    item.layout.setRowFixedHeight(LEGEND_ROW, height)


def _columns_width(widths: list[float], columns: int) -> float:
    return sum(max(widths[c::columns]) for c in range(columns))


class RunCurves:
    """The data of one run and the curve items that draw it."""

    def __init__(
        self,
        plots: dict[str, pg.PlotWidget],
        faded: bool = False,
        named: bool = True,
        task: str = "classification",
    ) -> None:
        self.task = task
        self.steps: list[float] = []
        self.losses: list[float] = []
        self.smooth: list[float] = []
        self.epochs: list[dict] = []
        self.lr_steps: list[float] = []
        self.lrs: list[float] = []
        self._drawn_epochs = -1
        self.items = {}
        style = Qt.PenStyle.DashLine if faded else Qt.PenStyle.SolidLine
        self.series = task_named(task).series  # the middle plot's (key, legend name)
        scores = [(key, "acc", label) for key, label in self.series]
        for key, plot_name, label in (
            ("raw", "loss", "train loss"),
            ("smooth", "loss", "train loss, smoothed"),
            ("val", "loss", "validation loss"),
            *scores,
            ("lr", "lr", "learning rate"),
        ):
            color = COLORS[key] if not faded else (160, 160, 160, 140)
            pen = pg.mkPen(color, width=1 if key == "raw" else 2, style=style)
            symbol = "o" if key == "val" or key in dict(self.series) else None
            name = label if not faded else self._faded_name(key, named)
            self.items[key] = plots[plot_name].plot(
                [], [], pen=pen, name=name, symbol=symbol, symbolSize=5, symbolBrush=color
            )
        if faded:
            self.items["raw"].hide()

    def _faded_name(self, key: str, named: bool) -> str | None:
        # Earlier runs are all grey: one entry per plot says what grey means.
        first = ("smooth", self.series[-1][0], "lr")
        return "earlier run" if named and key in first else None

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
        for key, _label in self.series:
            scored = [e for e in self.epochs if e.get(key) is not None]
            steps = np.asarray([e["step"] for e in scored])
            self.items[key].setData(steps, np.asarray([e[key] for e in scored], dtype=float))
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
            "loss": _plot("loss"),
            "acc": _plot("accuracy"),
            "lr": _plot("lr", x_axis=True),  # (the legend spells it out)
        }
        self.task = "classification"
        self._score_axis()
        for name in ("acc", "lr"):
            self.plots[name].setXLink(self.plots["loss"])
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
        layout.addWidget(self.plots["lr"])
        self.plots["lr"].setFixedHeight(LR_PLOT_HEIGHT)  # a flat line needs little room
        layout.addLayout(buttons)
        for plot in self.plots.values():
            plot.installEventFilter(self)
        self._fit_legends()

    def _score_axis(self) -> None:
        """The task's score: accuracy from 0 to 100%, or a score whose range follows it."""
        plot, axis = self.plots["acc"], self.plots["acc"].getAxis("left")
        task = task_named(self.task)
        plot.setLabel("left", task.score_label)
        if not task.score_percent:
            axis.setTicks(None)
            plot.enableAutoRange(axis="y")
            return
        plot.setYRange(0, 1, padding=0.05)
        # Fixed ticks: three or two labels fit however short the plot gets.
        axis.setTicks([[(0, "0%"), (0.5, "50%"), (1, "100%")]])

    def eventFilter(self, watched, event) -> bool:
        """Re-flow a plot's legend when the plot changes width."""
        if event.type() == QEvent.Type.Resize and watched in self.plots.values():
            fit_legend(watched)
        return False

    def _fit_legends(self) -> None:
        for plot in self.plots.values():
            fit_legend(plot)

    def legend_names(self) -> dict[str, list[str]]:
        """The legend entries of each plot, as shown."""
        return {
            name: [label.text for _sample, label in plot.getPlotItem().legend.items]
            for name, plot in self.plots.items()
        }

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
        peak = max((max(run.lrs) for run in (self.current, *self.overlays) if run.lrs), default=0)
        if peak:
            top = peak * 1.15
            if top != self._lr_top:
                self._lr_top = top
                self.plots["lr"].getPlotItem().setYRange(0, top, padding=0)
                self.plots["lr"].getAxis("left").setTicks([[(0, "0"), (peak, f"{peak:.2g}")]])

    def new_run(self, total_steps: int | None = None, task: str | None = None) -> None:
        """Start fresh curves for a new run (overlays stay); `task` picks the middle plot."""
        self.current.remove(self.plots)
        if task and task != self.task:
            self.task = task
            self._score_axis()
        self.current = RunCurves(self.plots, task=self.task)
        self._total = total_steps
        self._x_max = min(100, total_steps) if total_steps else 100
        self._lr_top = None
        loss = self.plots["loss"].getPlotItem()
        loss.disableAutoRange(axis="x")
        loss.setXRange(0, self._x_max, padding=0.02)
        self.plots["lr"].getPlotItem().disableAutoRange(axis="y")
        self._fit_legends()

    def keep_as_overlay(self) -> None:
        """Keep the current run, faded, to compare with the next one."""
        if not self.current.steps:
            return
        faded = RunCurves(self.plots, faded=True, named=not self.overlays, task=self.task)
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
