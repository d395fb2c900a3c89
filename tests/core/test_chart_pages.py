"""Every page with a chart draws it with the one chart component, and the table behind each chart holds
the values the page's own query computed (the studio analytics page: tests/studio/test_metrics.py;
the business view's twelve months: tests/admin_dashboard/test_one_truth.py)."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.api.helpers import bearer, org_with_key
from tests.factories import make_org, make_user
from webapp.ai.models import AiUsageLog
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.referrals import services as referrals


def chart_on(page: str, chart_id: str) -> str:
    """The markup of one chart component on a page; fails when the page does not draw it."""
    assert f'id="{chart_id}"' in page, chart_id
    return page.split(f'id="{chart_id}"')[1].split("</figure>")[0]


def table_of(chart: str) -> list[tuple[str, int, str]]:
    """(label, raw value, value as read) for each row of the chart's table."""
    return [
        (label, int(value), shown)
        for label, value, shown in re.findall(
            r'<tr><th scope="row">([^<]*)</th><td data-value="(-?\d+)">([^<]*)</td></tr>', chart
        )
    ]


def test_usage_page_draws_one_bar_per_day_with_the_days_values(client, ctx):
    owner, org, _, plain = org_with_key()
    now = utcnow()
    events = [
        {
            "event_id": f"sms-{i}",
            "event_type": "sms.sent",
            "quantity": 3,
            "timestamp": (now - timedelta(days=i % 2)).isoformat(),
        }
        for i in range(5)
    ]
    assert client.client.post("/api/v1/usage-events", json={"events": events}, headers=bearer(plain)).status_code in (
        200,
        201,
        202,
    )
    client.login(owner.email)
    page = client.get(f"/o/{org.slug}/usage?days=7").get_data(as_text=True)
    chart = chart_on(page, "chart-sms-sent")
    rows = table_of(chart)
    assert len(rows) == 7 and chart.count('class="bar"') == 7 and chart.count('<g class="point">') == 7
    by_day = {label: value for label, value, _ in rows}
    assert by_day[now.date().isoformat()] == 9 and by_day[(now - timedelta(days=1)).date().isoformat()] == 6
    assert sum(by_day.values()) == 15 and "sum per day · 15" in chart
    assert 'aria-labelledby="chart-sms-sent-svg-title"' in chart and 'class="tick"' in chart


def test_referrals_page_charts_clicks_and_sign_ups_per_week(client, ctx):
    user = make_user("ref@example.com")
    org = make_org(user, "Referrer Co", "referrer-co")
    program = referrals.open_program(user)
    db.session.commit()
    client.login(user.email)
    empty = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    assert "No data yet" in chart_on(empty, "chart-referral-clicks") and "<svg" not in chart_on(
        empty, "chart-referral-clicks"
    )

    for n in range(3):
        referrals.record_click(program, source="x", campaign=None, ip=f"10.0.0.{n}", user_agent="Firefox")
    db.session.commit()
    page = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    rows = table_of(chart_on(page, "chart-referral-clicks"))
    weeks = referrals.weekly_series(program)
    assert [(label, value) for label, value, _ in rows] == [(w["week"].strftime("%d %b"), w["clicks"]) for w in weeks]
    assert rows[-1][1:] == (3, "3 clicks")
    assert "No data yet" in chart_on(page, "chart-referral-signups")  # no one signed up yet


def test_ai_page_charts_credits_by_service(client, ctx):
    owner = make_user()
    org = make_org(owner)
    client.login(owner.email)
    empty = client.get(f"/o/{org.slug}/ai/").get_data(as_text=True)
    assert "No credits used in the last 30 days." in chart_on(empty, "chart-ai-by-service")

    for service, used in (("CHAT_ASSISTANT", 40), ("CHAT_ASSISTANT", 2), ("DOCUMENT_ANALYSIS", 7)):
        db.session.add(
            AiUsageLog(organization_id=org.id, service=service, operation="t", credits_used=used, success=True)
        )
    db.session.add(  # older than the chart's 30 days
        AiUsageLog(
            organization_id=org.id,
            service="CHAT_ASSISTANT",
            operation="t",
            credits_used=500,
            success=True,
            created_at=utcnow() - timedelta(days=31),
        )
    )
    db.session.commit()
    chart = chart_on(client.get(f"/o/{org.slug}/ai/").get_data(as_text=True), "chart-ai-by-service")
    rows = {label: (value, shown) for label, value, shown in table_of(chart)}
    assert rows["Chat assistant"] == (42, "42 credits") and rows["Document analysis"] == (7, "7 credits")
    assert rows["Task generation"] == (0, "0 credits") and len(rows) == 7
    assert "<title>Chat assistant: 42 credits</title>" in chart and chart.count('class="bar"') == 7


def test_business_view_draws_its_three_charts_in_the_books_currency(client, ctx):
    from webapp.admin.figures import business_figures

    make_user("cfo@tessera.example", staff=True)
    client.login("cfo@tessera.example")
    page = client.get("/admin/").get_data(as_text=True)
    fig = business_figures()
    for chart_id, series, shown in (
        ("chart-mrr", fig.mrr_series, "USD 0.00"),
        ("chart-collected", fig.collected_series, "USD 0.00"),
        ("chart-churn", fig.churn_series, "0 subscriptions"),
    ):
        rows = table_of(chart_on(page, chart_id))
        assert [label for label, _, _ in rows] == fig.months
        assert [value for _, value, _ in rows] == series
        assert all(text == shown for _, _, text in rows)  # a fresh install: zeros, still drawn as readings
    assert "<polyline" in chart_on(page, "chart-mrr") and 'class="tick"' in chart_on(page, "chart-collected")
