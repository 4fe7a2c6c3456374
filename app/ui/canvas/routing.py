"""Edges that would pass behind cards (a residual skip over a block's convolutions) are
routed around them: down from the port, across to a free lane beside the cards, down the
lane, and across into the target port, with rounded corners."""

from __future__ import annotations

import bisect

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QTransform

SKIP_DROP = 150.0  # a shorter drop spans one row gap: no card can be in its way
MAX_ROUTED_CARDS = 2000  # beyond this, edges keep the cheap bulge (see bench_wide)
LANE_MARGIN = 26.0  # between the lane and the cards it passes
EXIT = 22.0  # how far the edge leaves a port before it turns (rows are 64 px apart)
RADIUS = 12.0
SWAP = QTransform(0, 1, 1, 0, 0, 0)  # x <-> y: left to right is top to bottom, mirrored
LANE_TRIES = 4  # a lane blocked by other cards moves past them, a few times at most


def routed_path(scene, start: QPointF, end: QPointF, ends: tuple, sideways: bool):
    """A lane path around the cards between two ports, or None when none is in the way.

    Left to right is worked out as top to bottom with x and y swapped."""
    if sideways:
        start, end = SWAP.map(start), SWAP.map(end)
    cards = blocking_cards(scene, start, end, ends, sideways)
    if not cards:
        return None
    path = lane_path(start, end, cards, scene, sideways)
    return SWAP.map(path) if sideways else path


def _cards(scene, area: QRectF, sideways: bool) -> list[tuple[QRectF, str]]:
    """cards_in for an area of the (possibly swapped) plane, rects in that plane."""
    if not sideways:
        return scene.cards_in(area)
    return [(SWAP.mapRect(rect), node) for rect, node in scene.cards_in(SWAP.mapRect(area))]


def blocking_cards(
    scene, start: QPointF, end: QPointF, ends: tuple, sideways: bool = False
) -> list[QRectF]:
    """The cards (other than the edge's own) in the straight corridor between two ports."""
    if end.y() - start.y() < SKIP_DROP or len(scene.nodes) > MAX_ROUTED_CARDS:
        return []
    left, right = min(start.x(), end.x()), max(start.x(), end.x())
    height = end.y() - start.y() - 2 * EXIT
    corridor = QRectF(left - 12, start.y() + EXIT, right - left + 24, height)
    return [rect for rect, node in _cards(scene, corridor, sideways) if node not in ends]


class CardIndex:
    """The cards' rectangles sorted by their top edge, to find those in a corridor fast
    (Qt's own index is brought up to date only later, when the event loop runs)."""

    def __init__(self, nodes: dict) -> None:
        rects = sorted(
            ((item.sceneBoundingRect(), node) for node, item in nodes.items()),
            key=lambda pair: pair[0].top(),
        )
        self.tops = [rect.top() for rect, _node in rects]
        self.rects = rects
        self.tallest = max((rect.height() for rect, _node in rects), default=0.0)

    def overlapping(self, area: QRectF) -> list[tuple[QRectF, str]]:
        """(rect, node) of every card that overlaps `area`."""
        first = bisect.bisect_left(self.tops, area.top() - self.tallest)
        last = bisect.bisect_right(self.tops, area.bottom())
        return [(rect, node) for rect, node in self.rects[first:last] if rect.intersects(area)]


def lane_path(
    start: QPointF, end: QPointF, cards: list[QRectF], scene=None, sideways: bool = False
) -> QPainterPath:
    """Down, across to the side of `cards` nearer to both ports, down, across, in; a lane
    that would run behind another card moves out past it too."""
    top, bottom = start.y() + EXIT, end.y() - EXIT
    lane = _lane(start, end, cards)
    for _ in range(LANE_TRIES):
        band = QRectF(lane - LANE_MARGIN / 2, top, LANE_MARGIN, bottom - top)
        more = [r for r, _node in _cards(scene, band, sideways)] if scene is not None else []
        if not more:
            break
        cards = cards + more
        lane = _lane(start, end, cards)
    points = [
        start,
        QPointF(start.x(), top),
        QPointF(lane, top),
        QPointF(lane, bottom),
        QPointF(end.x(), bottom),
        end,
    ]
    return rounded(points)


def _lane(start: QPointF, end: QPointF, cards: list[QRectF]) -> float:
    """The x of a free lane left or right of `cards`, whichever is the shorter way."""
    left = min(rect.left() for rect in cards) - LANE_MARGIN
    right = max(rect.right() for rect in cards) + LANE_MARGIN
    travel = abs(start.x() - left) + abs(end.x() - left)
    return left if travel < abs(start.x() - right) + abs(end.x() - right) else right


def rounded(points: list[QPointF]) -> QPainterPath:
    """A polyline through `points` with each corner rounded."""
    path = QPainterPath(points[0])
    for before, corner, after in zip(points, points[1:], points[2:]):
        radius = min(RADIUS, _length(before, corner) / 2, _length(corner, after) / 2)
        path.lineTo(_toward(corner, before, radius))
        path.quadTo(corner, _toward(corner, after, radius))
    path.lineTo(points[-1])
    return path


def _length(a: QPointF, b: QPointF) -> float:
    return abs(a.x() - b.x()) + abs(a.y() - b.y())  # segments are horizontal or vertical


def _toward(corner: QPointF, other: QPointF, distance: float) -> QPointF:
    """The point `distance` from `corner` on the segment towards `other`."""
    length = _length(corner, other)
    if length == 0:
        return QPointF(corner)
    share = distance / length
    return corner + (other - corner) * share
