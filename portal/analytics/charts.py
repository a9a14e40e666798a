"""Charts drawn on the server as SVG geometry: the template draws the shapes, so a chart
needs no JavaScript, scales to a phone's width (a viewBox), and is always shown with a
table of its numbers beside it for screen readers."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
LEFT = 44  # room for the value axis labels
BOTTOM = 22  # room for the day labels
TOP = 8


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: float
    tick: bool  # whether its label is written under the axis


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    columns: list[Column]
    ticks: list[tuple[float, str]]  # y position, value label
    base: float  # y of the zero line
    left: int


def _nice_top(largest: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten at or above ``largest``."""
    if largest <= 0:
        return 1
    step = 1.0
    while step * 10 <= largest:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= largest:
            return step * factor
    return step * 10  # pragma: no cover


def _label(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def columns(points: list[tuple[str, float]], *, every: int = 5) -> ColumnChart:
    """A column per point (a day of the month, say), labelled every ``every`` columns."""
    top = _nice_top(max((v for _, v in points), default=0))
    inner_w, inner_h = WIDTH - LEFT - 4, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(points), 1)
    base = TOP + inner_h
    shapes = []
    for i, (label, value) in enumerate(points):
        height = inner_h * value / top
        shapes.append(Column(LEFT + i * slot + slot * 0.15, base - height, slot * 0.7, height,
                             label, value, i % every == 0))
    ticks = [(base - inner_h * f, _label(top * f)) for f in (0, 0.5, 1)]
    return ColumnChart(WIDTH, HEIGHT, shapes, ticks, base, LEFT)


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart drawn as a table: the label, the number, and a bar of
    ``percent`` of the row's width (an SVG of its own, so the table is the chart)."""

    label: str
    value: float
    text: str  # the value as written
    kind: str  # a CSS class: in, out, share...
    percent: float
    link: str = ""


def bars(items: list[tuple[str, float, str, str]], *, most: float | None = None,
         links: list[str] | None = None) -> list[Bar]:
    """A bar per (label, value, text, kind), scaled to ``most`` (or the largest value)."""
    top = most if most is not None else max((v for _, v, _, _ in items), default=0)
    return [Bar(label, value, text, kind, round(100 * value / top, 1) if top > 0 else 0.0,
                links[i] if links else "")
            for i, (label, value, text, kind) in enumerate(items)]
