"""Start the window: `torchcanvas [PROJECT]`, `torchcanvas --screenshot OUT.png [--size WxH]
[PROJECT]`."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")  # pyqtgraph must bind to PySide6


def launch(project: str | None = None, screenshot: str | None = None, size=(1600, 1000)) -> int:
    """Open the window (or render it to a PNG) and run until it closes."""
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TorchCanvas")
    from torchcanvas.app.ui.main_window import MainWindow

    window = MainWindow(remember_layout=not screenshot)
    from torchcanvas.app.ui import errors

    errors.install(lambda: window, window.home / "errors.log")
    problem = open_initial(window, project, offer_recovery=not screenshot)
    if screenshot:
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        return take_screenshot(app, window, screenshot, size)
    window.show()
    window.view.show_top()
    from PySide6.QtCore import QTimer

    if problem:  # as a file manager starts it: say so in the window, not on a hidden stderr
        QTimer.singleShot(0, lambda: window.dialogs.error("Cannot open the project", problem))

    from torchcanvas.app.train.session import prewarm, shutdown_spare

    # A worker that has already imported torch makes the first Train start at once.
    QTimer.singleShot(1500, prewarm)
    app.aboutToQuit.connect(shutdown_spare)
    return app.exec()


def open_initial(window, project: str | None, offer_recovery: bool = True) -> str | None:
    """Open the named project (or its unsaved autosave), orphaned work, or the digits
    example; returns why the named project could not be opened, or None."""
    from torchcanvas.graph.project import ProjectError

    if project and offer_recovery and window.offer_recovery(project):
        return None
    if project:
        try:
            window.document.open(project)
            return None
        except ProjectError as error:
            problem = str(error)
    else:
        problem = None
        if offer_recovery and window.offer_recovery():
            return None
    from torchcanvas.app.editing.examples import DEFAULT_EXAMPLE

    try:
        window.document.open_example(DEFAULT_EXAMPLE)
    except ProjectError:  # an install without the bundled examples: start empty
        window.document.new()
    return problem


def take_screenshot(app, window, path: str, size=(1600, 1000)) -> int:
    """Render the window offscreen and save it as a PNG."""
    import time

    window.resize(*size)
    window.show()
    end = time.monotonic() + 0.5  # docks settle their sizes over a few event-loop rounds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    window.view.show_top()
    app.processEvents()
    ok = window.grab().save(path)
    window.document.undo.set_clean()
    window.close()
    if not ok:
        print(f"error: could not write {path}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0
