from datetime import timedelta

from sqlalchemy import select

from tests.api.helpers import bearer, org_with_key
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.subscriptions import services as subscriptions
from webapp.subscriptions.catalog import plan_by_code
from webapp.usage.models import UsageRecord
from webapp.usage.services import month_start


def test_billing_run_bills_metered_usage_above_the_allowance_and_closes_the_period(client, ctx):
    from webapp.billing.models import Invoice
    from webapp.billing.services.run import run_billing

    owner, org, _, plain = org_with_key()
    subscriptions.change_plan(subscriptions.current_subscription(org), plan_by_code("TEAM_STANDARD"), "MONTHLY", owner)
    db.session.commit()
    now = month_start(utcnow()) - timedelta(hours=1)  # last month, within the 35-day window
    events = [
        {"event_id": f"sms-{i}", "event_type": "sms.sent", "quantity": 1, "timestamp": now.isoformat()}
        for i in range(150)
    ]
    events += [
        {"event_id": f"pos-{i}", "event_type": "pos.transaction", "quantity": 10, "timestamp": now.isoformat()}
        for i in range(100)
    ]  # 1,000 of 5,000 included: nothing billed
    assert client.client.post("/api/v1/usage-events", json={"events": events}, headers=bearer(plain)).status_code == 200

    run_billing(now.strftime("%Y-%m"), send_emails=False)
    db.session.commit()
    invoice = db.session.scalar(
        select(Invoice).where(Invoice.organization_id == org.id, Invoice.run_period.is_not(None))
    )
    metered = [line for line in invoice.lines if line.metric]
    assert [(line.metric, line.quantity, line.unit_price) for line in metered] == [("sms.sent", 50, 3)]
    assert "150 messages, 100 included" in metered[0].description
    record = db.session.scalar(
        select(UsageRecord).where(UsageRecord.organization_id == org.id, UsageRecord.metric == "sms.sent")
    )
    assert record.value == 150 and record.closed_at is not None

    late = client.client.post(
        "/api/v1/usage-events",
        json={"events": [{"event_id": "sms-late", "event_type": "sms.sent", "timestamp": now.isoformat()}]},
        headers=bearer(plain),
    )
    assert late.json["rejected"][0]["code"] == "period_closed"
    # A second run for the same period bills nothing twice.
    run_billing(now.strftime("%Y-%m"), send_emails=False)
    db.session.commit()
    assert (
        db.session.scalar(
            select(db.func.count())
            .select_from(Invoice)
            .where(Invoice.organization_id == org.id, Invoice.run_period.is_not(None))
        )
        == 1
    )
