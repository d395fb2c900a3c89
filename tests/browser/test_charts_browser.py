"""The chart component in a real browser, on the demo data: every chart page draws its SVG at a
readable size, hovering a point reveals its value, and the table behind a chart opens from its
summary. A screenshot of each page is kept in test-artifacts/ to look at."""

from __future__ import annotations

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_sweep_browser import sign_in

PAGES = [
    ("staff@tessera.example", "/admin/", ["chart-mrr", "chart-collected", "chart-churn"]),
    ("owner@harare-retail.example", "/o/harare-retail/usage", []),
    ("owner@harare-retail.example", "/o/harare-retail/ai/", ["chart-ai-by-service"]),
    ("owner@harare-retail.example", "/o/harare-retail/referrals/", ["chart-referral-clicks"]),
    ("owner@kyoto-creators.example", "/o/kyoto-creators/studio/posts", ["chart-views-tiktok"]),
]
OPACITY = "(el) => getComputedStyle(el).opacity"


def test_chart_pages_draw_hover_values_and_open_their_tables(app, new_page, run_jobs):
    from webapp.demo import run_all
    from webapp.extensions import db

    with app.app_context():
        run_all(log=lambda *_: None)
        db.session.remove()
    run_jobs()
    ARTIFACTS.mkdir(exist_ok=True)
    signed_in: dict[str, object] = {}
    for email, path, expected in PAGES:
        if email not in signed_in:
            signed_in[email] = new_page()
            sign_in(signed_in[email], email)
        page = signed_in[email]
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        page.screenshot(path=str(ARTIFACTS / f"charts{path.replace('/', '-').rstrip('-')}.png"), full_page=True)
        figures = page.locator("figure.chart-figure")
        assert figures.count() >= max(len(expected), 1), path
        for chart_id in expected:
            assert page.locator(f"#{chart_id}").count() == 1, (path, chart_id)
        drawn = page.locator("figure.chart-figure svg.chart")
        for n in range(drawn.count()):
            box = drawn.nth(n).bounding_box()
            assert box and box["width"] >= 200 and box["height"] >= 80, (path, n, box)
        if not drawn.count():
            continue
        svg = drawn.first
        point = svg.locator("g.point").first
        value = point.locator("text.value")
        hover_only = "shown" not in (value.get_attribute("class") or "")
        if hover_only:
            assert value.evaluate(OPACITY) == "0", path
        point.locator("rect.hit").hover(force=True)
        assert value.evaluate(OPACITY) == "1", path
        assert point.locator("title").first.text_content().strip()
        figure = svg.locator("xpath=ancestor::figure[1]")
        table = figure.locator("details.chart-data table")
        assert not table.is_visible()
        figure.locator("details.chart-data summary").click()
        assert table.is_visible() and table.locator("tbody tr").count() >= 1
