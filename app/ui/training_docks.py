"""Adds training to the main window: panel, curves, activations, results, weights actions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QScrollArea

from torchcanvas.app.train.job import available_devices
from torchcanvas.app.ui.activations import ActivationView
from torchcanvas.app.ui.plots import CurvesView
from torchcanvas.app.ui.predictions import add_predict
from torchcanvas.app.ui.results import ResultsView
from torchcanvas.app.ui.training_controller import TrainingController
from torchcanvas.app.ui.training_panel import TrainingPanel


def add_training(window) -> TrainingController:
    """Create the training docks next to the designer's and return their controller."""
    area = Qt.DockWidgetArea
    window.training_panel = TrainingPanel(available_devices())
    window.curves = CurvesView()
    window.activations = ActivationView()
    window.results = ResultsView()
    docks = window.docks
    # The panel scrolls its settings itself, under the run controls it keeps in sight.
    docks["training"] = window._dock(
        "Training", window.training_panel, area.RightDockWidgetArea, "training"
    )
    docks["curves"] = window._dock("Curves", window.curves, area.RightDockWidgetArea, "curves")
    docks["activations"] = window._dock(
        "Activations", _scrolled(window.activations), area.BottomDockWidgetArea, "activations"
    )
    controller = TrainingController(window)
    tab = add_predict(window, controller)  # Results with Predict… below it
    docks["results"] = window._dock("Results", tab, area.BottomDockWidgetArea, "results")
    window.tabifyDockWidget(docks["inspector"], docks["training"])
    window.tabifyDockWidget(docks["code"], docks["curves"])
    window.tabifyDockWidget(docks["problems"], docks["activations"])
    window.tabifyDockWidget(docks["activations"], docks["results"])
    docks["inspector"].raise_()
    docks["code"].raise_()
    docks["problems"].raise_()
    for name in ("training", "curves", "activations", "results"):
        window.panels_menu.addAction(docks[name].toggleViewAction())
    _add_weights_actions(window, controller)
    return controller


def _scrolled(widget) -> QScrollArea:
    """`widget` in a scroll area, so that its dock can be shorter than the widget's form
    (the window must fit a 1280x720 screen)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _add_weights_actions(window, controller: TrainingController) -> None:
    file_menu = window.file_menu
    export = window.actions_by_name["export"]
    load = QAction("&Load Weights…", window)
    load.triggered.connect(lambda _c=False: controller.load_weights())
    save = QAction("Save &Weights…", window)
    save.triggered.connect(lambda _c=False: controller.save_weights())
    file_menu.insertAction(export, load)
    file_menu.insertAction(export, save)
    train = QAction("&Train", window)
    train.setShortcut("Ctrl+T")
    train.triggered.connect(lambda _c=False: controller.start())
    window.toolbar.addSeparator()
    window.toolbar.addAction(train)
    window.actions_by_name.update(load_weights=load, save_weights=save, train=train)


def show_training_views(window) -> None:
    """Bring the training panel, curves and activations to the front."""
    for name in ("training", "curves", "activations"):
        window.docks[name].raise_()
    window.resizeDocks([window.docks["activations"]], [330], Qt.Orientation.Vertical)
