"""The window's size and place: fitted to the screen it opens on, remembered per screen.

A window laid out for a 1600×1000 screen and restored on a 1280×720 one puts the Inspector,
the bottom docks and the status bar off the screen, so geometry and dock state are kept
under the screen's name and size, and a screen never seen before gets a fitted window.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QSize
from PySide6.QtGui import QCursor, QGuiApplication

PREFERRED = QSize(1500, 950)
FRAME = QSize(16, 48)  # room for a window manager's borders and title bar


def opening_screen(window):
    """The screen the window opens on: the one under the pointer, else the primary one."""
    return QGuiApplication.screenAt(QCursor.pos()) or window.screen()


def screen_key(screen) -> str:
    """A settings key for `screen`: its name and size ("HDMI_1_1920x1080")."""
    size = screen.geometry().size()
    name = re.sub(r"[^A-Za-z0-9]+", "_", screen.name() or "screen").strip("_")
    return f"{name}_{size.width()}x{size.height()}"


def fit_to_screen(window, screen=None) -> None:
    """Size the window to the preferred size or the screen's free area, whichever is
    smaller, and centre it there."""
    area = (screen or opening_screen(window)).availableGeometry()
    size = PREFERRED.boundedTo(area.size() - FRAME)
    window.resize(size)
    left = area.x() + max(0, (area.width() - size.width() - FRAME.width()) // 2)
    top = area.y() + max(0, (area.height() - size.height() - FRAME.height()) // 2)
    window.move(left, top)


def restore(window, settings) -> bool:
    """Restore what was saved for the opening screen; True when dock state was restored."""
    key = screen_key(opening_screen(window))
    geometry = settings.value(f"geometry/{key}")
    state = settings.value(f"window_state/{key}")
    if geometry is None or not window.restoreGeometry(geometry):
        fit_to_screen(window)
    return state is not None and window.restoreState(state)


def remember(window, settings) -> None:
    """Save the geometry and dock state under the screen the window is on."""
    key = screen_key(window.screen())
    settings.setValue(f"geometry/{key}", window.saveGeometry())
    settings.setValue(f"window_state/{key}", window.saveState())
