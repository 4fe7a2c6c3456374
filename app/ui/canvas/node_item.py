"""A node card: layer type, name, key parameters, output shape, and one item per port."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas import card_flags
from torchcanvas.app.ui.canvas.card_compact import CARD_TEXT_PT, paint_compact
from torchcanvas.app.ui.canvas.card_names import fit_name, says_something
from torchcanvas.app.ui.canvas.card_ports import (
    paint_side_labels,
    place_sideways,
    side_height,
    text_margins,
)
from torchcanvas.app.ui.canvas.port_item import PortItem
from torchcanvas.graph.registry import LayerSpec

WIDTH = 190.0  # the narrowest card; cards with many ports are wider
HEADER = 22.0
LINE = 16.0
STRIP = 12.0  # a row of port labels inside the card
BOTTOM_STRIP = 17.0  # the output labels sit above the port circles
PORT_SPACING = 62.0
EXPANDED_WIDTH = 270.0  # a card showing its inside needs room for name, type and shape
NAME_SHARE = 0.66  # of the header, when the name must push the type aside to say something
TOGGLE = 16.0  # the expand triangle at the left of a block's header
COMPACT_ZOOM = 0.55  # below it a card's 8-point text is under 5 px: draw a labelled box
# Not reaching an Output is a warning, not a choice: dashed, so it never reads as selected.
WARNING_PEN = QColor("#8d6e63")

# Looked up once: reading a PySide enum member costs microseconds, times 60,000 items in a
# big graph.
_CARD_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsMovable
    | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
    | QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption  # paint() gets exposedRect
)


class NodeItem(QGraphicsItem):
    """The card drawn for one node; holds no state the model does not have."""

    def __init__(self, node: str, name: str, spec: LayerSpec) -> None:
        super().__init__()
        self.node, self.name, self.spec = node, name, spec
        self.details: list[str] = []
        self.shape_text = ""
        self.severity: str | None = None
        self.activity: float | None = None  # live training indicator, 0..1
        self.badge = ""
        self.openable = False  # a block instance or container: double-click opens it
        self.count: int | None = None  # a container's children (its ×N badge)
        self.frozen = False  # training keeps its weights: a lock and a muted fill
        self.scale_text = ""  # its learning-rate factor, "lr ×10", when not 1
        self.inside: list[tuple[str, str, str]] | None = None  # rows when expanded
        self.in_ports: dict[str, PortItem] = {}
        self.out_ports: dict[str, PortItem] = {}
        self.width = WIDTH
        self._port_width = WIDTH
        self.sideways = False  # left to right: ports down the card's sides
        self._bounds: QRectF | None = None
        self._problem: tuple | None = None  # (severity, tooltip) last shown
        self.shown_name = name  # the name as last painted (shortened by whole segments)
        self.shown_lines: list[str] = []  # a compact card's lines and their pixel height
        self.shown_pixels = 0
        # No itemChange hook: PySide converts the change kind of every notification (a
        # dozen per card as it is built) into a Python enum. The scene follows drags itself.
        self.setFlags(_CARD_FLAGS)
        self.setAcceptHoverEvents(True)
        self.setZValue(1)
        self._layout()

    # ----- content ----------------------------------------------------------------
    def height(self) -> float:
        """Card height for the current number of detail lines and port-label strips."""
        inside = LINE * len(self.inside) + 6 if self.inside is not None else 0.0
        if self.sideways:
            return side_height(self, HEADER + LINE * (1 + len(self.details)) + 8 + inside)
        top = STRIP if len(self.in_ports) > 1 else 0.0
        bottom = BOTTOM_STRIP - 6 if len(self.out_ports) > 1 else 0.0
        return HEADER + LINE * (1 + len(self.details)) + 8 + top + bottom + inside

    def header_height(self) -> float:
        """The coloured header's height."""
        return HEADER

    def _top(self) -> float:
        """Where the text starts: below the header and the input labels."""
        return HEADER + (STRIP if len(self.in_ports) > 1 and not self.sideways else 0.0)

    def boundingRect(self) -> QRectF:
        if self._bounds is None:  # Qt asks often; _layout() forgets it whenever the size changes
            stack = 6.0 if self.count is not None and self.count > 1 else 0.0
            self._bounds = QRectF(-3, -3, self.width + 6 + stack, self.height() + 10 + stack)
        return self._bounds

    def set_content(self, details: list[str], shape_text: str) -> bool:
        """Key parameters and the output shape shown on the card; returns whether its size
        (and so where its ports are) may have changed."""
        if details == self.details and shape_text == self.shape_text:
            return False
        resized = len(details) != len(self.details)
        if resized:
            self.prepareGeometryChange()
        self.details, self.shape_text = details, shape_text
        if resized:
            self._layout()
        self.update()
        return resized

    def set_inside(self, rows: list[tuple[str, str, str]] | None, count: int | None) -> bool:
        """Rows of the layers inside (None: collapsed) and a container's child count;
        returns whether the card changed."""
        if rows == self.inside and count == self.count:
            return False
        self.prepareGeometryChange()
        self.inside, self.count = rows, count
        self.width = max(self._port_width, EXPANDED_WIDTH if rows is not None else WIDTH)
        self._layout()
        self.update()
        return True

    def on_toggle(self, point: QPointF) -> bool:
        """Whether `point` (item coordinates) is on the expand triangle."""
        return self.openable and 0 <= point.x() <= TOGGLE + 4 and 0 <= point.y() <= HEADER

    def set_name(self, name: str) -> None:
        """Show another name (after a rename)."""
        self.name = name
        if self._problem is not None:
            self._show_tip(self._problem[1])
        self.update()

    def set_flags(self, frozen, lr_scale) -> None:
        """Show the node's training flags (frozen, learning-rate factor)."""
        frozen, text = frozen is True, card_flags.scale_text(lr_scale)
        if (frozen, text) != (self.frozen, self.scale_text):
            self.frozen, self.scale_text = frozen, text
            self.update()

    def set_problem(self, severity: str | None, tooltip: str) -> None:
        """Mark the card red (error) or amber (warning), with the problems as tooltip."""
        tooltip = tooltip or f"{self.spec.type}: {self.spec.doc}"
        if (severity, tooltip) == self._problem:
            return  # every refresh asks; most cards have not changed
        self._problem = (severity, tooltip)
        self.severity = severity
        self._show_tip(tooltip)
        self.update()

    def _show_tip(self, text: str) -> None:
        # The full name first: the card may show it shortened.
        self.setToolTip(f"{self.name} ({self.spec.type})\n{text}")

    def border_pen(self) -> QPen:
        """Selected: solid orange; error: thick red; warning (e.g. does not reach an Output):
        dashed brown; else a thin grey line."""
        if self.isSelected():
            return QPen(style.SELECTED, 2.5)
        if self.severity == "error":
            return QPen(style.PROBLEM, 2.5)
        if self.severity == "warning":
            return QPen(WARNING_PEN, 2.0, Qt.PenStyle.DashLine)
        return QPen(style.CARD_BORDER, 1.2)

    def set_activity(self, level: float | None, badge: str = "") -> None:
        """Live training indicator (None hides it) and a warning badge."""
        if level != self.activity or badge != self.badge:
            self.activity, self.badge = level, badge
            self.update()

    def set_sideways(self, sideways: bool) -> None:
        """Ports on the sides (left to right) or on the top and bottom edges."""
        if sideways != self.sideways:
            self.prepareGeometryChange()
            self.sideways = sideways
            ports = (_described(self.in_ports), _described(self.out_ports))
            self.set_ports(*ports, force=True)

    def set_ports(self, inputs: list[tuple], outputs: list[tuple], force: bool = False) -> bool:
        """Show these (name, label, optional) ports; returns whether anything changed."""
        have_in, have_out = _described(self.in_ports), _described(self.out_ports)
        if have_in == inputs and have_out == outputs and not force:
            return False
        self.prepareGeometryChange()
        self._sync(self.in_ports, "in", have_in, inputs)
        self._sync(self.out_ports, "out", have_out, outputs)
        spread = 1 if self.sideways else max(len(inputs), len(outputs))  # ports along a side
        self._port_width = max(WIDTH, PORT_SPACING * spread)
        self.width = max(self._port_width, EXPANDED_WIDTH if self.inside is not None else 0)
        self._layout()
        self.update()
        return True

    def _sync(self, ports: dict[str, PortItem], kind: str, have: list, wanted: list) -> None:
        # Keep the ports both lists start with: a merge gaining or losing its last slot
        # changes one port, not all k of them.
        keep = 0
        while keep < min(len(have), len(wanted)) and have[keep] == wanted[keep]:
            keep += 1
        scene = self.scene()
        for name, _label, _optional in have[keep:]:
            port = ports.pop(name)
            if scene is not None:
                scene.removeItem(port)
            port.setParentItem(None)
        for name, label, optional in wanted[keep:]:
            ports[name] = PortItem(self, kind, name, label, optional)

    def _layout(self) -> None:
        self._bounds = None
        if self.sideways:
            place_sideways(self)
            return
        for ports, y in ((self.in_ports, 0.0), (self.out_ports, self.height())):
            count = len(ports)
            for index, port in enumerate(ports.values()):
                port.setPos(self.width * (index + 1) / (count + 1), y)

    # ----- painting ---------------------------------------------------------------
    def paint(self, painter: QPainter, option, widget=None) -> None:
        zoom = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if zoom < COMPACT_ZOOM:
            paint_compact(self, painter, zoom, self.border_pen())
            self._paint_activity(painter)
            return
        rect = QRectF(0, 0, self.width, self.height())
        color = card_flags.header_color(style.category_color(self.spec.category), self.frozen)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        quiet = card_flags.FROZEN_BG if self.frozen else style.CARD_BG
        background = style.PROBLEM_BG if self.severity == "error" else quiet
        path = QPainterPath()
        path.addRoundedRect(rect, 7, 7)
        if self.count is not None and self.count > 1:  # a repeat: a stack of cards
            for offset in (6.0, 3.0):
                behind = QPainterPath()
                behind.addRoundedRect(rect.translated(offset, offset), 7, 7)
                painter.fillPath(behind, background)
                painter.setPen(QPen(style.CARD_BORDER, 1))
                painter.drawPath(behind)
        painter.fillPath(path, background)
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(0, 0, self.width, HEADER), color)
        painter.restore()
        painter.setPen(self.border_pen())
        painter.drawPath(path)
        self._paint_text(painter)
        self._paint_inside(painter)
        self._paint_port_labels(painter, option.exposedRect)
        self._paint_activity(painter)
        self._paint_count(painter)

    def _paint_text(self, painter: QPainter) -> None:
        left = TOGGLE + 4 if self.openable else 8
        lock = card_flags.LOCK_ROOM if self.frozen else 0.0
        header = QRectF(left, 0, self.width - left - 8 - lock, HEADER)
        if self.frozen:
            card_flags.paint_lock(painter, self.width - 8, HEADER)
        if self.openable:
            painter.setPen(QColor("#ffffff"))
            painter.setFont(style.font(8))
            arrow = "▾" if self.inside is not None else "▸"
            painter.drawText(QRectF(4, 0, TOGGLE, HEADER), Qt.AlignmentFlag.AlignCenter, arrow)
        painter.setFont(style.font(CARD_TEXT_PT, bold=True))
        bold = painter.fontMetrics()
        room = header.width() - 10
        type_room = min(bold.horizontalAdvance(self.spec.type), room * 0.45)
        painter.setFont(style.font(CARD_TEXT_PT))
        metrics = painter.fontMetrics()
        name = fit_name(self.name, metrics.horizontalAdvance, room - type_room)
        if not says_something(name):  # "…1" tells nothing: the type gives up letters instead
            name = fit_name(self.name, metrics.horizontalAdvance, room * NAME_SHARE)
        self.shown_name = name
        name_width = metrics.horizontalAdvance(name) + 10
        painter.setPen(QColor("#ffffff"))
        painter.drawText(header, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
        painter.setFont(style.font(CARD_TEXT_PT, bold=True))
        title = bold.elidedText(
            self.spec.type, Qt.TextElideMode.ElideRight, int(header.width() - name_width)
        )
        painter.drawText(header, Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(style.font(8.5))
        painter.setPen(style.MUTED)
        y = self._top() + 2
        left, right = text_margins(self)
        room = self.width - left - right
        for line in self.details:
            painter.drawText(
                QRectF(left, y, room, LINE),
                Qt.AlignmentFlag.AlignVCenter,
                _elide(line, int(room / 6.3)),
            )
            y += LINE
        painter.setPen(style.PROBLEM if self.severity == "error" else style.TEXT)
        painter.setFont(style.font(CARD_TEXT_PT, bold=True))
        painter.drawText(
            QRectF(left, y, room, LINE), Qt.AlignmentFlag.AlignVCenter, self.shape_text
        )
        if self.scale_text:
            card_flags.paint_scale(painter, self.scale_text, self.width, y, LINE)

    def _paint_inside(self, painter: QPainter) -> None:
        """The expanded card's rows: each inner layer's name, type and output shape."""
        if self.inside is None:
            return
        y = self._top() + LINE * (1 + len(self.details)) + 8
        painter.setPen(QPen(style.CARD_BORDER, 1))
        painter.drawLine(QPointF(6, y - 3), QPointF(self.width - 6, y - 3))
        painter.setFont(style.font(8))
        columns = ((8, 0.28), (0.30, 0.38), (0.68, 0.30))
        for label, type_name, shape in self.inside:
            for text, (start, share), color in zip(
                (label, type_name, shape), columns, (style.TEXT, style.MUTED, style.TEXT)
            ):
                x = start if start > 1 else self.width * start
                room = self.width * share
                painter.setPen(color)
                shown = painter.fontMetrics().elidedText(
                    text, Qt.TextElideMode.ElideRight, int(room - 4)
                )
                painter.drawText(QRectF(x, y, room, LINE), Qt.AlignmentFlag.AlignVCenter, shown)
            y += LINE

    def _paint_count(self, painter: QPainter) -> None:
        """A repeat's ×N pill, on the card's bottom-right corner."""
        if self.count is None:
            return
        text = f"×{self.count}"
        painter.setFont(style.font(8, bold=True))
        width = painter.fontMetrics().horizontalAdvance(text) + 12
        pill = QRectF(self.width - width - 6, self.height() - 9, width, 16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#37474f"))
        painter.drawRoundedRect(pill, 8, 8)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_port_labels(self, painter: QPainter, exposed: QRectF) -> None:
        """Names of the ports of a side with more than one (q, k, v; h_n; 0, 1, 2).

        Only those in the exposed part: a merge of 1,024 inputs is a card 60,000 px wide.
        """
        if self.sideways:
            paint_side_labels(self, painter)
            return
        painter.setFont(style.font(7))
        painter.setPen(style.MUTED)
        bottom = self.height() - BOTTOM_STRIP
        for ports, y in ((self.in_ports, HEADER), (self.out_ports, bottom)):
            if len(ports) < 2:
                continue
            room = self.width / (len(ports) + 1)
            for port in ports.values():
                x = port.pos().x()
                if x + room < exposed.left() or x - room > exposed.right():
                    continue
                text = painter.fontMetrics().elidedText(
                    port.label, Qt.TextElideMode.ElideRight, int(room - 2)
                )
                painter.drawText(
                    QRectF(x - room / 2, y, room, STRIP), Qt.AlignmentFlag.AlignCenter, text
                )

    def _paint_activity(self, painter: QPainter) -> None:
        if self.activity is not None:
            level = max(0.0, min(1.0, self.activity))
            bar = QRectF(self.width - 12, HEADER + 4, 6, self.height() - HEADER - 10)
            painter.fillRect(bar, QColor("#e0e0e0"))
            filled = QRectF(
                bar.left(), bar.bottom() - bar.height() * level, bar.width(), bar.height() * level
            )
            painter.fillRect(filled, QColor("#43a047"))
        if self.badge:
            painter.setPen(QPen(style.WARNING, 1))
            painter.setBrush(style.WARNING)
            painter.drawEllipse(QPointF(self.width - 4, 4), 8, 8)
            painter.setPen(QColor("#000000"))
            painter.setFont(style.font(8, bold=True))
            painter.drawText(QRectF(self.width - 12, -4, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")


def _described(ports: dict[str, PortItem]) -> list[tuple[str, str, bool]]:
    return [(name, port.label, port.optional) for name, port in ports.items()]


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
