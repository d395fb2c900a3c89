"""One truth per figure: every figure the demo shows in two places reads the same in each of them.

The demo is seeded, then every page that shows such a figure is rendered as each role that sees it.
Each figure carries a stable marker (``data-figure="collected-this-month"``, its ``data-value`` when
the visible text is abbreviated); the same figure for the same scope (the console, one organization,
one user) must read the same on every page."""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser

import pytest

from webapp.extensions import db

CONSOLE_PAGES = [
    "/admin/",
    "/admin/invoices",
    "/admin/payments",
    "/admin/support/",
]
ORG_PAGES = [
    "/o/{slug}/",
    "/o/{slug}/billing/",
    "/o/{slug}/subscription",
    "/o/{slug}/ai/",
    "/o/{slug}/ai/chat",
    "/o/{slug}/files/",
]
USER_PAGES = ["/notifications/"]
ROLES = ("owner", "admin", "billing", "member")
SLUGS = ("harare-retail", "bulawayo-foods", "kyoto-creators")
# Figures that must be found in two places at least, or the test proves nothing about them.
SHOWN_TWICE = {
    "collected-this-month",
    "open-receivables",
    "overdue-total",
    "open-tickets",
    "org-open-receivables",
    "org-overdue-total",
    "org-credit-balance",
    "ai-credit-balance",
    "ai-period-grant",
    "ai-grant-used",
    "storage-used",
    "storage-quota",
    "unread-notifications",
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class FigureReader(HTMLParser):
    """Collects (name, reading) for every element with ``data-figure``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._open: list[list] = []  # [name, depth, text parts, data-value]
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self._depth += 1
        attrs = dict(attrs)
        if "data-figure" in attrs:
            self._open.append([attrs["data-figure"], self._depth, [], attrs.get("data-value")])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self._open and self._open[-1][1] >= self._depth:
            name, _depth, parts, value = self._open.pop()
            self.found.append((name, value if value is not None else " ".join("".join(parts).split())))
        self._depth -= 1

    def handle_data(self, data):
        for entry in self._open:
            entry[2].append(data)


def figures_on(html: str) -> list[tuple[str, str]]:
    reader = FigureReader()
    reader.feed(html)
    reader.close()
    return reader.found


def scope_of(name: str, url: str, viewer: str, org_ids: dict[int, str]) -> str:
    if name == "unread-notifications":
        return f"user {viewer}"
    if url.startswith("/o/"):
        return url.split("/")[2]
    if url.startswith("/admin/billing/"):
        return org_ids[int(url.rstrip("/").split("/")[-1])]
    return "console"


def readings_across_the_demo(make_client) -> dict[tuple[str, str], dict[str, set[str]]]:
    """{(figure, scope): {reading: {where it was read}}} over every page, role and organization."""
    from webapp.orgs.demo import STAFF_EMAIL, demo_org

    org_ids = {demo_org(slug).id: slug for slug in SLUGS}
    seen: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def read(client, viewer: str, url: str) -> None:
        page = client.get(url)
        if page.status_code == 403:  # not this role's page: the figure is not shown to them
            return
        assert page.status_code == 200, (viewer, url, page.status_code)
        for name, reading in figures_on(page.get_data(as_text=True)):
            seen[(name, scope_of(name, url, viewer, org_ids))][reading].add(f"{url} as {viewer}")

    staff = make_client()
    staff.login(STAFF_EMAIL, "tessera-demo-1")
    for url in CONSOLE_PAGES + [f"/admin/billing/{org_id}" for org_id in org_ids]:
        read(staff, STAFF_EMAIL, url)
    for slug in SLUGS:
        for role in ROLES:
            email = f"{role}@{slug}.example"
            client = make_client()
            client.login(email, "tessera-demo-1")
            for url in ORG_PAGES + USER_PAGES:
                read(client, email, url.format(slug=slug))
    return seen


@pytest.fixture
def demo(ctx, live_server):
    from webapp.demo import run_all

    run_all(log=lambda _line: None)
    db.session.remove()


def test_every_figure_shown_twice_reads_the_same_everywhere(demo, make_client):
    seen = readings_across_the_demo(make_client)
    disagreements = {key: dict(readings) for key, readings in seen.items() if len(readings) > 1}
    assert not disagreements, f"figures that read differently on different pages: {disagreements}"

    places = defaultdict(set)
    for (name, _scope), readings in seen.items():
        for where in readings.values():
            places[name] |= {w.split(" as ")[0].split("/o/")[-1].split("/", 1)[-1] for w in where}
    not_twice = sorted(name for name in SHOWN_TWICE if len(places[name]) < 2)
    assert not not_twice, f"figures found on fewer than two pages: {not_twice} ({dict(places)})"
    # The demo has money moving this month, so the check compares real amounts, not zeros.
    (collected,) = seen[("collected-this-month", "console")].keys()
    assert collected != "USD 0.00"


def test_the_reader_tells_two_readings_apart():
    html = (
        '<p data-figure="collected-this-month">USD 370.52</p><div><span data-figure="collected-this-month">'
        'USD <b>350.52</b></span><br><span data-figure="unread-notifications" data-value="120">99+</span></div>'
    )
    assert figures_on(html) == [
        ("collected-this-month", "USD 370.52"),
        ("collected-this-month", "USD 350.52"),
        ("unread-notifications", "120"),
    ]


def test_the_demo_has_a_past_every_12_month_chart_shows_a_trend(demo, make_client):
    from webapp.admin.figures import business_figures

    fig = business_figures()
    for name in ("mrr_series", "collected_series", "churn_series"):
        series = getattr(fig, name)
        assert len(series) == 12, (name, series)
    assert len(set(fig.mrr_series)) >= 5 and fig.mrr_series[0] < fig.mrr_series[-2]  # customers joined over the year
    assert sum(1 for v in fig.collected_series if v > 0) >= 11 and len(set(fig.collected_series)) >= 5
    assert sum(fig.churn_series) >= 2  # two customers left during the year
    assert len(fig.months) == 12 and len(set(fig.months)) == 12

    # posts and their engagement over the year, usage in every month
    from sqlalchemy import select

    from webapp.studio.models import PublishedPost
    from webapp.usage.models import UsageRecord

    published = db.session.scalars(select(PublishedPost.published_at)).all()
    assert len({(p.year, p.month) for p in published}) >= 10
    periods = db.session.scalars(select(UsageRecord.period_start)).all()
    assert len({(p.year, p.month) for p in periods}) >= 12

    # the page draws the same series: 12 bars of money collected, one per month, each titled
    staff = make_client()
    staff.login("staff@tessera.example", "tessera-demo-1")
    page = staff.get("/admin/").get_data(as_text=True)
    collected = page.split('id="chart-collected"')[1].split("</figure>")[0]
    assert collected.count('class="bar"') == 12
    assert all(f"<title>{month}:" in collected for month in fig.months)
    # and the table behind the chart holds the same twelve amounts
    assert [int(v) for v in re.findall(r'data-value="(-?\d+)"', collected)] == fig.collected_series
