"""One chart for every page: a series of labelled integer values, laid out here and drawn as inline
SVG by ``templates/components/_charts.html`` (macro ``chart``).

Why one component: the usage page, the studio analytics, the referral program, the business view and
the AI page each drew their own SVG with no axis values, nothing a screen reader could read and no
hover values. Here the geometry is computed in Python (so it is tested without a browser) and the
macro only prints attributes; the CSP allows no inline style or script, so hover states are CSS in
``static/css/app.css`` and each point carries an SVG ``<title>`` with its value.

Values are integers in the unit's own minor unit: a count, cents of ``currency``, or bytes. Every
value reads through the display helpers the rest of the application uses (``display.count``,
``display.size``, ``money.format_amount``), so a chart's axis, hover text and table read exactly like
the figure beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from flask_babel import gettext, lazy_gettext

from webapp.core import display
from webapp.core.money import format_amount

COUNT, MONEY, BYTES = "count", "money", "bytes"
UNITS = (COUNT, MONEY, BYTES)
BAR, LINE, HBAR = "bar", "line", "hbar"  # columns over time, a line over time, bars per category
KINDS = (BAR, LINE, HBAR)

# The step of an axis when every value is zero: one of the unit (USD 1.00, 1 KB), not one cent or byte.
_ZERO_STEP = {COUNT: 1, MONEY: 100, BYTES: 1024}
_TARGET_INTERVALS = 4
_CHAR_WIDTH = 6.4  # average width of a character at the chart's 11px font, for margins
_SIZES = {False: (640, 220), True: (320, 180)}  # (width, height) of the view box: wide, compact
_MAX_X_LABELS = {False: 7, True: 4}
_ROW = 26  # height of one category in a horizontal bar chart


def nice_steps(unit: str) -> Iterator[int]:
    """Axis steps in increasing order: 1, 2, 5, 10, 20, 50 … of the unit's minor unit; bytes climb
    1, 2, 5 … 500 of each binary unit, so a byte axis reads "5 KB", "500 MB", never "4.9 KB"."""
    if unit == BYTES:
        base = 1
        while True:
            for mantissa in (1, 2, 5, 10, 20, 50, 100, 200, 500):
                yield mantissa * base
            base *= 1024
    magnitude = 1
    while True:
        for mantissa in (1, 2, 5):
            yield mantissa * magnitude
        magnitude *= 10


def ticks(low: int, high: int, unit: str = COUNT, target: int = _TARGET_INTERVALS) -> list[int]:
    """Evenly spaced round values from at most ``min(low, 0)`` to at least ``max(high, 0)``, zero
    among them, with the smallest round step that needs no more than ``target`` intervals over the
    span (so between 2 and ``target + 2`` ticks)."""
    low, high = min(int(low), 0), max(int(high), 0)
    if low == high:
        return [0, _ZERO_STEP[unit]]
    span = high - low
    step = next(s for s in nice_steps(unit) if s * target >= span)
    first, last = (low // step) * step, -(-high // step) * step  # floor and ceiling to the step
    return list(range(first, last + 1, step))


def format_value(value: int, unit: str, currency: str | None = None) -> str:
    """A value as every page shows it: "1,204", "USD 12.50", "1.5 KB"."""
    if unit == MONEY:
        return format_amount(value, currency or "USD")
    if unit == BYTES:
        return display.size(value)
    return display.count(value)


@dataclass(frozen=True)
class Point:
    label: str
    value: int


@dataclass(frozen=True)
class Tick:
    value: int
    text: str
    pos: float  # y of a vertical chart's grid line, x of a horizontal one's


@dataclass(frozen=True)
class Mark:
    """One point as drawn: its bar (or dot), the area that shows its value on hover, and its labels."""

    label: str
    reading: str  # the hover text: "Jul: USD 1,200.00"
    text: str  # the value alone, shown on hover (always for a single point and for categories)
    bar_x: float
    bar_y: float
    bar_w: float
    bar_h: float
    cx: float
    cy: float
    hit_x: float
    hit_y: float
    hit_w: float
    hit_h: float
    text_x: float
    text_y: float
    text_anchor: str
    label_x: float | None  # None: this point's label is not printed under the axis (too many points)
    label_y: float


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    zero: float  # the value axis position of 0
    ticks: list[Tick]
    marks: list[Mark]
    polyline: str = ""


@dataclass
class Chart:
    """A titled series. ``points`` are ``Point``s (``series`` makes them from ``(label, value)`` pairs;
    pairs given directly are converted too), oldest first (or in the categories' order). ``noun`` says
    what a count counts, in the plural ("views"); ``note`` is a line under the title; ``zero_is_empty``
    shows the empty state when every value is zero (a fresh program's weeks), where a zero is otherwise
    a reading (no churn this month)."""

    id: str
    title: str
    points: list[Point]
    unit: str = COUNT
    currency: str | None = None
    kind: str = BAR
    noun: str = ""
    label_heading: str = lazy_gettext("Period")
    value_heading: str = ""
    note: str = ""
    compact: bool = False
    zero_is_empty: bool = False
    empty_text: str = lazy_gettext("No data yet")
    _layout: Layout | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, not {self.unit!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.unit == MONEY and not self.currency:
            raise ValueError("a money chart needs its currency")
        self.points = [p if isinstance(p, Point) else Point(str(p[0]), int(p[1])) for p in self.points]
        self.value_heading = self.value_heading or self.title

    # ------------------------------------------------------------------ reading
    def fmt(self, value: int) -> str:
        return format_value(value, self.unit, self.currency)

    def reading(self, value: int) -> str:
        """The value with its noun: "1,204 views"; money and sizes carry their unit already."""
        text = self.fmt(value)
        return f"{text} {self.noun}" if self.noun and self.unit == COUNT else text

    @property
    def empty(self) -> bool:
        return not self.points or (self.zero_is_empty and all(p.value == 0 for p in self.points))

    @property
    def summary(self) -> str:
        """One sentence a screen reader announces with the title; the table below has every value."""
        if self.empty:
            return f"{self.empty_text}."
        if len(self.points) == 1:
            (only,) = self.points
            return gettext("One reading: %(label)s, %(value)s.", label=only.label, value=self.reading(only.value))
        top = max(self.points, key=lambda p: p.value)
        if self.kind == HBAR:
            return gettext(
                "%(count)s rows; highest %(label)s, %(value)s.",
                count=len(self.points),
                label=top.label,
                value=self.reading(top.value),
            )
        first, last = self.points[0], self.points[-1]
        return gettext(
            "%(first)s to %(last)s; highest %(top)s, %(top_value)s; latest %(last)s, %(last_value)s.",
            first=first.label,
            last=last.label,
            top=top.label,
            top_value=self.reading(top.value),
            last_value=self.reading(last.value),
        )

    # ------------------------------------------------------------------ geometry
    def layout(self) -> Layout:
        if self._layout is None:
            self._layout = self._horizontal() if self.kind == HBAR else self._vertical()
        return self._layout

    def _ticks(self) -> list[int]:
        values = [p.value for p in self.points] or [0]
        return ticks(min(values), max(values), self.unit)

    def _vertical(self) -> Layout:
        width, height = _SIZES[self.compact]
        values = self._ticks()
        texts = [self.fmt(v) for v in values]
        left = round(max(len(t) for t in texts) * _CHAR_WIDTH + 10, 1)
        top, right, bottom = 14.0, width - 8.0, height - 24.0
        low, high = values[0], values[-1]

        def y(value: int) -> float:
            return round(top + (high - value) / (high - low) * (bottom - top), 1)

        n = max(len(self.points), 1)
        slot = (right - left) / n
        bar_w = round(min(slot * 0.7, 48.0), 1)
        widest = max((len(p.label) for p in self.points), default=1) * _CHAR_WIDTH + 10
        fit = max(int((width - 4) // widest), 2)  # labels that fit side by side without touching
        labelled = _spread(len(self.points), min(_MAX_X_LABELS[self.compact], fit))
        marks = []
        for i, p in enumerate(self.points):
            cx = round(left + (i + 0.5) * slot, 1)
            cy, zero = y(p.value), y(0)
            text = self.fmt(p.value)
            half_text = len(text) * _CHAR_WIDTH / 2
            half_label = len(p.label) * _CHAR_WIDTH / 2
            marks.append(
                Mark(
                    label=p.label,
                    reading=f"{p.label}: {self.reading(p.value)}",
                    text=text,
                    bar_x=round(cx - bar_w / 2, 1),
                    bar_y=min(cy, zero),
                    bar_w=bar_w,
                    bar_h=round(abs(zero - cy), 1),
                    cx=cx,
                    cy=cy,
                    hit_x=round(left + i * slot, 1),
                    hit_y=top,
                    hit_w=round(slot, 1),
                    hit_h=round(bottom - top, 1),
                    text_x=_clamp(cx, half_text, width),
                    text_y=round(max(min(cy, zero) - 5, top - 2), 1),
                    text_anchor="middle",
                    label_x=_clamp(cx, half_label, width) if i in labelled else None,
                    label_y=height - 8.0,
                )
            )
        marks = _drop_touching_labels(marks, widest - 10)
        polyline = " ".join(f"{m.cx},{m.cy}" for m in marks) if self.kind == LINE and len(marks) > 1 else ""
        return Layout(
            width,
            height,
            left,
            top,
            right,
            bottom,
            y(0),
            [Tick(v, t, y(v)) for v, t in zip(values, texts, strict=True)],
            marks,
            polyline,
        )

    def _horizontal(self) -> Layout:
        width = _SIZES[self.compact][0]
        n = max(len(self.points), 1)
        top = 6.0
        bottom = top + n * _ROW
        height = int(bottom + 24)
        values = self._ticks()
        texts = [self.fmt(v) for v in values]
        left = round(min(max(len(p.label) for p in self.points) * _CHAR_WIDTH + 12, width * 0.45), 1)
        readings = [self.fmt(p.value) for p in self.points]
        right = round(width - max(max(len(t) for t in readings), len(texts[-1]) / 2) * _CHAR_WIDTH - 10, 1)
        low, high = values[0], values[-1]

        def x(value: int) -> float:
            return round(left + (value - low) / (high - low) * (right - left), 1)

        zero = x(0)
        marks = []
        for i, (p, text) in enumerate(zip(self.points, readings, strict=True)):
            end = x(p.value)
            row_top = top + i * _ROW
            marks.append(
                Mark(
                    label=p.label,
                    reading=f"{p.label}: {self.reading(p.value)}",
                    text=text,
                    bar_x=min(zero, end),
                    bar_y=row_top + 5,
                    bar_w=round(abs(end - zero), 1),
                    bar_h=16.0,
                    cx=end,
                    cy=row_top + 13,
                    hit_x=0.0,
                    hit_y=row_top,
                    hit_w=float(width),
                    hit_h=float(_ROW),
                    text_x=round(max(end, zero) + 6, 1),
                    text_y=row_top + 17,
                    text_anchor="start",
                    label_x=left - 6,
                    label_y=row_top + 17,
                )
            )
        return Layout(
            width,
            height,
            left,
            top,
            right,
            bottom,
            zero,
            [Tick(v, t, x(v)) for v, t in zip(values, texts, strict=True)],
            marks,
        )


def _spread(n: int, most: int) -> set[int]:
    """Which of ``n`` points get a printed label: at most ``most``, evenly spaced, first and last included."""
    if n <= most:
        return set(range(n))
    return {round(k * (n - 1) / (most - 1)) for k in range(most)}


def _drop_touching_labels(marks: list[Mark], width: float) -> list[Mark]:
    """Keep the first and last labels; drop any between that would touch its kept neighbour (the
    last label moves in at the edge, so it can come close to the one before it)."""
    at = {i: m.label_x for i, m in enumerate(marks) if m.label_x is not None}
    shown = list(at)
    if len(shown) < 3:
        return marks
    first, last = shown[0], shown[-1]
    kept = [first]
    for i in shown[1:-1]:
        x = at[i]
        if x - at[kept[-1]] >= width and at[last] - x >= width:
            kept.append(i)
    kept.append(last)
    return [m if i in kept else replace(m, label_x=None) for i, m in enumerate(marks)]


def _clamp(center: float, half: float, width: int) -> float:
    """A centred text's x, moved in so the text stays inside the view box."""
    return round(min(max(center, half + 2), width - half - 2), 1)


def series(pairs: Iterable[tuple[str, int]]) -> list[Point]:
    """``(label, value)`` pairs as points."""
    return [Point(str(label), int(value)) for label, value in pairs]
