"""Work-arounds for Qt behaviour that a user would otherwise see."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar


def hide_ghost_tab_bars(window: QMainWindow) -> int:
    """Hide the stale tab bars Qt 6.11 leaves when a second group of docks is tabified.

    The stale copy keeps its first place and shows through other docks after a resize. It
    is told apart from the live bar by switching tabs: only the live bar follows. The tab
    in front of each group stays in front. Returns how many bars were hidden.
    """
    groups: list[list[QDockWidget]] = []
    for dock in window.findChildren(QDockWidget):
        others = window.tabifiedDockWidgets(dock)
        if others and not any(dock in group for group in groups):
            groups.append([dock, *others])
    if not groups:
        return 0
    bars = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    in_front = [bar.tabText(bar.currentIndex()) for bar in bars]
    snapshots = []
    for index in (0, 1):
        for group in groups:
            group[index].raise_()
        snapshots.append([bar.currentIndex() for bar in bars])
    titles = {dock.windowTitle(): dock for group in groups for dock in group}
    hidden = 0
    for bar, before, after, title in zip(bars, *snapshots, in_front):
        if before == after:
            bar.hide()
            hidden += 1
        elif title in titles:
            titles[title].raise_()
    return hidden
