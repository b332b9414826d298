"""Geometry of the dashboard's charts, drawn by the templates as inline SVG. Pure.

The server works out every rectangle and label, so the page needs no script (the CSP allows
none inline) and prints as it shows; colours come from ``adoption.css`` classes, never from
style attributes. Each chart is paired with a table of the same numbers in the template.

>>> chart = column_chart([("T1", 5), ("T2", 10)], width=100, height=138)
>>> [(round(b.height), b.value) for b in chart.bars]
[(50, 5), (100, 10)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "CHART_WIDTH",
    "BarRow",
    "Column",
    "ColumnChart",
    "ProgressBar",
    "column_chart",
    "nice_ceiling",
]

# Narrow enough that 12-unit text stays readable when a phone shows the chart 300 px wide.
CHART_WIDTH = 360
_PAD_TOP = 16
_PAD_BOTTOM = 22
_PAD_SIDE = 4


@dataclass(frozen=True, slots=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the column; "" to leave it out
    value: int
    text: str  # the value, for the column's tooltip


@dataclass(frozen=True, slots=True)
class ColumnChart:
    width: int
    height: int
    baseline: float
    top: int  # the value at the top of the plot area
    bars: list[Column]

    @property
    def label_y(self) -> float:
        return self.baseline + 16

    @property
    def top_y(self) -> int:
        return _PAD_TOP


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at least ``value`` (and at least 1), for an axis top.

    >>> [nice_ceiling(v) for v in (0, 3, 7, 12, 180, 2001)]
    [1, 5, 10, 20, 200, 5000]
    """
    value = max(1, value)
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def column_chart(
    points: Sequence[tuple[str, int]],
    *,
    width: int = CHART_WIDTH,
    height: int = 170,
    fmt: Callable[[int], str] = str,
) -> ColumnChart:
    """Vertical bars, one per point, on a shared axis from 0 to a round number."""
    top = nice_ceiling(max((v for _, v in points), default=0))
    baseline = height - _PAD_BOTTOM
    plot_height = baseline - _PAD_TOP
    slot = (width - 2 * _PAD_SIDE) / max(1, len(points))
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = plot_height * value / top
        bars.append(
            Column(
                x=_PAD_SIDE + index * slot + slot * 0.1,
                y=baseline - bar_height,
                width=slot * 0.8,
                height=bar_height,
                label=label,
                value=value,
                text=fmt(value),
            )
        )
    return ColumnChart(width=width, height=height, baseline=baseline, top=top, bars=bars)


@dataclass(frozen=True, slots=True)
class ProgressBar:
    """``value`` out of ``target`` as a filled track; ``width`` is the track's length."""

    value: int
    target: int
    width: int = 600
    height: int = 28

    @property
    def filled(self) -> float:
        return self.width * min(1.0, self.value / self.target) if self.target else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.value / self.target) if self.target else 0


@dataclass(frozen=True, slots=True)
class BarRow:
    """One horizontal bar pair: ``part`` of ``whole`` (e.g. qualifying of a district's
    markets), scaled so the largest ``whole`` of the chart fills ``width``.

    >>> rows = BarRow.rows([("A", 1, 4), ("B", 2, 2)], width=100)
    >>> [(r.whole_width, r.part_width) for r in rows]
    [(100.0, 25.0), (50.0, 50.0)]
    """

    label: str
    part: int
    whole: int
    y: float
    whole_width: float
    part_width: float

    ROW = 40

    @classmethod
    def rows(
        cls, items: Sequence[tuple[str, int, int]], *, width: int = CHART_WIDTH
    ) -> list[BarRow]:
        largest = max((whole for _, _, whole in items), default=0) or 1
        return [
            cls(
                label=label,
                part=part,
                whole=whole,
                y=index * cls.ROW,
                whole_width=width * whole / largest,
                part_width=width * part / largest,
            )
            for index, (label, part, whole) in enumerate(items)
        ]
