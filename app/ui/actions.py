"""Menus, toolbar and shortcuts of the main window."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle

from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.app.ui.flag_actions import flag_actions
from torchcanvas.app.ui.import_actions import import_model
from torchcanvas.app.ui.onnx_export import export_onnx
from torchcanvas.app.ui.script_export import export_script
from torchcanvas.app.ui.undo_actions import undo_actions

GESTURES = [  # what no action has a key for: mouse gestures and keys of the canvas itself
    ("Tab, or double-click on the canvas", "Add a layer: type a few letters, Enter"),
    ("Drag from a port to empty canvas", "Add a layer that fits, wired to that port"),
    ("Drag output port to input port", "Connect"),
    ("Drop a layer onto an edge", "Insert it there"),
    ("Arrow keys (Shift: finer)", "Nudge the selection"),
    ("Mouse wheel", "Zoom"),
    ("Middle drag or Space+drag", "Pan"),
    ("Right-click", "The actions for a card, an edge, a port or the canvas"),
    ("Double-click a block", "Open it"),
]


def shortcut_rows(window) -> list[tuple[str, str]]:
    """(keys, what) for every action of the window with a shortcut, then the gestures."""
    rows = {}
    for action in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        text = (action.property("help_text") or action.text()).replace("&", "")
        text = text.rstrip("…").strip()
        if keys and text:
            rows[text] = " or ".join(dict.fromkeys(keys))
    return sorted(((keys, text) for text, keys in rows.items()), key=lambda r: r[1]) + GESTURES


def shortcuts_html(rows: list[tuple[str, str]]) -> str:
    """`rows` as a table of keys and what they do, in two halves side by side (one column
    of 38 rows is taller than a 1280×720 screen)."""
    half = (len(rows) + 1) // 2
    right = rows[half:] + [("", "")] * (2 * half - len(rows))
    pairs = zip(rows[:half], right, strict=True)
    cells = "".join(f"<tr>{_cells(*left, gap=True)}{_cells(*right)}</tr>" for left, right in pairs)
    return f"<table cellspacing='2'>{cells}</table>"


def _cells(keys: str, text: str, gap: bool = False) -> str:
    pad = "padding-right:28px" if gap else ""
    return (
        f"<td style='padding-right:12px'><b>{html.escape(keys)}</b></td>"
        f"<td style='{pad}'>{html.escape(text)}</td>"
    )


def _action(window, text: str, slot, shortcut=None, icon=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.setStatusTip(tip or text.replace("&", "").rstrip("…"))
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_actions(window) -> dict[str, QAction]:
    """Create every action of the window, keyed by name."""
    sp, keys = QStyle.StandardPixmap, QKeySequence.StandardKey
    undo, redo = undo_actions(window)
    actions = {
        "new": _action(window, "&New", window.new_project, keys.New, sp.SP_FileIcon),
        "open": _action(window, "&Open…", window.open_project, keys.Open, sp.SP_DialogOpenButton),
        "save": _action(window, "&Save", window.save_project, keys.Save, sp.SP_DialogSaveButton),
        "save_as": _action(window, "Save &As…", window.save_project_as, "Ctrl+Shift+S"),
        "export": _action(window, "&Export Python…", window.export_python, "Ctrl+E"),
        "export_onnx": _action(
            window,
            "Export &ONNX…",
            lambda: export_onnx(window),
            tip="Write the model as ONNX (dynamic batch), for onnxruntime and other engines",
        ),
        "export_script": _action(
            window,
            "Export &Training Script…",
            lambda: export_script(window),
            tip="Write train.py: the model, its data and settings, for python and torchrun",
        ),
        "import": _action(
            window,
            "&Import Model…",
            lambda: import_model(window),
            "Ctrl+I",
            tip="Turn a PyTorch module (a file's class or a torchvision model) into a project",
        ),
        "recover": _action(
            window,
            "Recover &Unsaved Work…",
            window.recover_unsaved_work,
            tip="Reopen work autosaved by a window that did not close normally",
        ),
        # Spelled out: StandardKey.Quit is Ctrl+Q on xcb but no key at all offscreen.
        "quit": _action(window, "&Quit", window.close, "Ctrl+Q"),
        "undo": undo,
        "redo": redo,
        "cut": _action(window, "Cu&t", window.clipboard.cut, keys.Cut),
        "copy": _action(window, "&Copy", window.clipboard.copy, keys.Copy),
        "paste": _action(window, "&Paste", window.clipboard.paste, keys.Paste),
        "duplicate": _action(window, "&Duplicate", window.clipboard.duplicate, "Ctrl+D"),
        "delete": _action(window, "De&lete", window.delete_selection, keys.Delete),
        "select_all": _action(window, "Select &All", window.select_all, keys.SelectAll),
        "find": _action(window, "&Find Node…", window.editing.find, keys.Find),
        "delete_chain": _action(
            window,
            "Delete, &Keeping the Chain",
            window.editing.delete_keeping_chain,
            "Shift+Del",
            tip="Delete the selection and join what fed it to what it fed",
        ),
        "arrange": _action(
            window,
            "Auto-a&rrange",
            lambda: window.document.arrange(window.scene.card_sizes()),
            "Ctrl+L",
        ),
        "zoom_in": _action(window, "Zoom &In", lambda: window.view.zoom_by(1.25), "Ctrl+="),
        "zoom_out": _action(window, "Zoom &Out", lambda: window.view.zoom_by(0.8), "Ctrl+-"),
        "fit": _action(window, "&Fit", window.view.fit, "F"),
        "about": _action(window, "&About TorchCanvas", window.show_about),
        "shortcuts": _action(window, "&Keyboard Shortcuts", window.show_shortcuts),
    }
    for name in (
        "delete",
        "delete_chain",
        "fit",
        "select_all",
        "cut",
        "copy",
        "paste",
        "duplicate",
    ):
        # Canvas-only keys: typing F or Delete in the inspector must edit the text there.
        actions[name].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.view.addAction(actions[name])
    actions.update(window.blocks.actions())
    actions.update(flag_actions(window))
    return actions


def build_menus(window, actions: dict[str, QAction]) -> None:
    """File, Edit, View and Help menus, and the toolbar."""
    bar = window.menuBar()
    file_menu = window.file_menu = bar.addMenu("&File")
    for name in ("new", "open", "import"):
        file_menu.addAction(actions[name])
    window.examples_menu = file_menu.addMenu("Open E&xample")
    for path in sorted(EXAMPLES.glob("*.json")):
        action = window.examples_menu.addAction(path.stem.replace("_", " "))
        action.triggered.connect(lambda _c=False, stem=path.stem: window.open_example(stem))
    window.recent_menu = file_menu.addMenu("Open &Recent")
    file_menu.addAction(actions["recover"])
    file_menu.addSeparator()
    for name in ("save", "save_as", "export", "export_onnx", "export_script"):
        file_menu.addAction(actions[name])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])
    edit = bar.addMenu("&Edit")
    for name in (
        "undo",
        "redo",
        None,
        "cut",
        "copy",
        "paste",
        "duplicate",
        "delete",
        "delete_chain",
        None,
        "select_all",
        "find",
        "arrange",
    ):
        edit.addSeparator() if name is None else edit.addAction(actions[name])
    blocks = window.blocks_menu = bar.addMenu("&Blocks")
    for name in ("make_block", "ungroup", "repeat", None, "open_block", "up", "expand"):
        blocks.addSeparator() if name is None else blocks.addAction(actions[name])
    training = window.training_menu = bar.addMenu("&Training")
    for name in ("freeze", "unfreeze", "freeze_before"):
        training.addAction(actions[name])
    window.view_menu = bar.addMenu("&View")
    window.panels_menu = QMenu("&Panels", window)
    window.view_menu.addMenu(window.panels_menu)
    for name in ("zoom_in", "zoom_out", "fit"):
        window.view_menu.addAction(actions[name])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions["shortcuts"])
    help_menu.addAction(actions["about"])
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    for name in ("new", "open", "save", None, "undo", "redo", None, "arrange", "fit"):
        toolbar.addSeparator() if name is None else toolbar.addAction(actions[name])
    window.toolbar = toolbar
