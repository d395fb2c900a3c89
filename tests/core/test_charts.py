"""The chart component: axis ticks for every series (generated), how values read, the geometry the
template prints, and the markup: accessible name, hover value per point, the table, empty and
single-point states."""

from __future__ import annotations

from html.parser import HTMLParser
from itertools import pairwise, takewhile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.core.charts import BAR, BYTES, COUNT, HBAR, LINE, MONEY, Chart, format_value, nice_steps, ticks

values = st.integers(min_value=-(10**12), max_value=10**12)
units = st.sampled_from([COUNT, MONEY, BYTES])


def _is_nice(step: int, unit: str) -> bool:
    for candidate in nice_steps(unit):
        if candidate >= step:
            return candidate == step
    return False  # pragma: no cover - the generator never ends


@given(values, values, units)
def test_ticks_cover_the_series_with_round_even_steps(a, b, unit):
    low, high = min(a, b), max(a, b)
    out = ticks(low, high, unit)
    step = out[1] - out[0]
    assert 2 <= len(out) <= 6 + 1
    assert out[0] <= min(low, 0) and out[-1] >= max(high, 0)
    assert 0 in out
    assert all(later - earlier == step for earlier, later in pairwise(out))
    assert _is_nice(step, unit)
    # tight: no tick interval lies wholly outside the span of the values and zero
    if high > 0:
        assert out[-1] - step < high
    if low < 0:
        assert out[0] + step > low


@given(st.integers(min_value=1, max_value=10**12), units)
def test_the_step_is_the_smallest_round_one_that_fits_four_intervals(high, unit):
    out = ticks(0, high, unit)
    step = out[1] - out[0]
    smaller = list(takewhile(lambda s: s < step, nice_steps(unit)))
    if smaller:
        assert smaller[-1] * 4 < high  # the next round step down would need a fifth interval


def test_ticks_read_like_the_rest_of_the_application():
    assert ticks(0, 0, COUNT) == [0, 1]
    assert ticks(0, 0, MONEY) == [0, 100]
    assert ticks(0, 7) == [0, 2, 4, 6, 8]
    assert ticks(0, 120000, MONEY) == [0, 50000, 100000, 150000]
    assert ticks(0, 3 * 1024 * 1024, BYTES) == [0, 1024 * 1024, 2 * 1024 * 1024, 3 * 1024 * 1024]
    assert [format_value(v, BYTES) for v in ticks(0, 7000, BYTES)] == ["0 B", "2 KB", "4 KB", "6 KB", "8 KB"]
    assert [format_value(v, BYTES) for v in ticks(0, 9000, BYTES)] == ["0 B", "5 KB", "10 KB"]
    assert ticks(-30, 70) == [-50, 0, 50, 100]
    assert format_value(120000, MONEY, "USD") == "USD 1,200.00"
    assert format_value(12285, COUNT) == "12,285"
    assert format_value(1536, BYTES) == "1.5 KB"


def test_a_chart_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="currency"):
        Chart(id="c", title="MRR", points=[("Jan", 1)], unit=MONEY)
    with pytest.raises(ValueError, match="unit"):
        Chart(id="c", title="x", points=[], unit="percent")
    with pytest.raises(ValueError, match="kind"):
        Chart(id="c", title="x", points=[], kind="pie")


@given(
    st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=120),
    st.sampled_from([BAR, LINE, HBAR]),
    st.booleans(),
)
def test_every_mark_stays_inside_the_view_box_and_on_the_axis_scale(series, kind, compact):
    chart = Chart(id="c", title="t", points=[(f"d{i}", v) for i, v in enumerate(series)], kind=kind, compact=compact)
    layout = chart.layout()
    assert len(layout.marks) == len(series)
    for mark, value in zip(layout.marks, series, strict=True):
        assert mark.bar_x >= 0 and mark.bar_x + mark.bar_w <= layout.width + 0.2
        assert mark.bar_y >= 0 and mark.bar_y + mark.bar_h <= layout.height + 0.2
        assert mark.reading.endswith(format_value(value, COUNT))
    top_tick = layout.ticks[-1]
    biggest = max(range(len(series)), key=series.__getitem__)
    peak = layout.marks[biggest]
    if kind == HBAR:
        assert peak.bar_x + peak.bar_w <= top_tick.pos + 0.2  # the longest bar ends before the last tick
    else:
        assert peak.cy >= top_tick.pos - 0.2  # the highest point sits under the top tick
    labelled = [m for m in layout.marks if m.label_x is not None]
    assert labelled[0] is layout.marks[0] and labelled[-1] is layout.marks[-1]
    assert len(labelled) <= (len(series) if kind == HBAR else (4 if compact else 7))


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("n", [2, 5, 14, 30, 90])
def test_axis_labels_never_overlap(compact, n):
    days = [(f"2026-11-{d % 30 + 1:02d}", d) for d in range(n)]
    marks = [m for m in Chart(id="c", title="t", points=days, compact=compact).layout().marks if m.label_x is not None]
    assert len(marks) >= 2
    width = len("2026-11-01") * 6.4
    assert all(b.label_x - a.label_x >= width for a, b in pairwise(marks))
    assert marks[-1].label == days[-1][0]  # the last day is always labelled


def test_a_value_sits_where_its_tick_says():
    chart = Chart(id="c", title="t", points=[("a", 0), ("b", 50), ("c", 100)])
    layout = chart.layout()
    at = {t.value: t.pos for t in layout.ticks}
    assert layout.marks[0].cy == at[0] == layout.zero and layout.marks[2].cy == at[100]
    assert layout.marks[1].cy == pytest.approx((at[0] + at[100]) / 2, abs=0.1)


class Outline(HTMLParser):
    """Tags, attributes and text of rendered markup, enough to check the component's structure."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[tuple[str, str]] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_endtag(self, tag):
        while self._stack and self._stack.pop() != tag:
            pass

    def handle_data(self, data):
        if data.strip() and self._stack:
            self.text.append((self._stack[-1], data.strip()))

    def all(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def texts(self, tag):
        return [t for name, t in self.text if name == tag]


def render(app, chart: Chart) -> tuple[str, Outline]:
    with app.app_context():
        html = app.jinja_env.from_string('{% from "components/_charts.html" import chart %}{{ chart(c) }}').render(
            c=chart
        )
    outline = Outline()
    outline.feed(html)
    return html, outline


def test_the_markup_names_the_chart_shows_axis_values_hover_values_and_the_table(app):
    months = ["Jan", "Feb", "Mar", "Apr"]
    chart = Chart(
        id="chart-mrr",
        title="MRR",
        points=list(zip(months, [0, 2000, 7000, 16000], strict=True)),
        unit=MONEY,
        currency="USD",
        kind=LINE,
        label_heading="Month",
    )
    html, out = render(app, chart)
    (svg,) = out.all("svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "chart-mrr-svg-title"
    assert out.all("title", id="chart-mrr-svg-title") and svg["aria-describedby"] == "chart-mrr-desc"
    assert "Jan to Apr; highest Apr, USD 160.00; latest Apr, USD 160.00." in out.texts("desc")
    # the value axis: every tick printed as money, the way the rest of the application prints it
    tick_texts = [t for t in out.texts("text") if t.startswith("USD")]
    assert {"USD 0.00", "USD 50.00", "USD 100.00", "USD 150.00", "USD 200.00"} <= set(tick_texts)
    # one hover title per point, and the value that the hover state reveals
    assert [t for t in out.texts("title") if ":" in t] == [
        "Jan: USD 0.00",
        "Feb: USD 20.00",
        "Mar: USD 70.00",
        "Apr: USD 160.00",
    ]
    assert len(out.all("g", **{"class": "point"})) == 4 and len(out.all("circle")) == 4 and out.all("polyline")
    # the figures behind it, as a table a screen reader can walk
    assert out.texts("th") == ["Month", "MRR", *months]
    assert out.texts("td") == ["USD 0.00", "USD 20.00", "USD 70.00", "USD 160.00"]
    assert [a["data-value"] for a in out.all("td")] == ["0", "2000", "7000", "16000"]
    assert "style=" not in html and "<script" not in html  # the CSP allows neither


def test_empty_and_single_point_states(app):
    _, out = render(app, Chart(id="c", title="Views", points=[]))
    assert "No data yet" in out.texts("p") and not out.all("svg") and not out.all("table")
    zeros = Chart(id="c", title="Clicks", points=[("01 Dec", 0), ("08 Dec", 0)], zero_is_empty=True)
    assert zeros.empty and "No data yet" in render(app, zeros)[1].texts("p")
    kept = Chart(id="c", title="Churn", points=[("Dec", 0)])
    assert not kept.empty  # a zero is a reading unless the chart says otherwise

    single = Chart(id="c", title="Views", points=[("2026-12-01", 1204)], kind=LINE, noun="views")
    _html, out = render(app, single)
    assert "chart-single" in out.all("svg")[0]["class"]
    assert "One reading: 2026-12-01, 1,204 views." in out.texts("desc")
    assert out.all("text", **{"class": "value shown"})  # the only value is printed, not left to hover
    assert not out.all("polyline") and len(out.all("circle")) == 1
    (dot,) = out.all("circle")
    assert float(dot["cx"]) == pytest.approx((single.layout().left + single.layout().right) / 2, abs=0.1)


def test_categories_print_every_label_and_value(app):
    chart = Chart(
        id="c",
        title="Credits by service",
        points=[("Chat assistant", 120), ("Task generation", 0), ("Document analysis", 45)],
        kind=HBAR,
        noun="credits",
        label_heading="Service",
    )
    _, out = render(app, chart)
    labels = [t for t in out.texts("text") if not t[0].isdigit()]
    assert labels == ["Chat assistant", "Task generation", "Document analysis"]
    assert len(out.all("text", **{"class": "value shown"})) == 3
    assert "Chat assistant: 120 credits" in out.texts("title")
    assert out.texts("td") == ["120 credits", "0 credits", "45 credits"]
