"""The single-event path on PostgreSQL: its own AUTOCOMMIT pool without pre-ping, recovering from a
connection that died while idle."""

import pytest
from flask import current_app
from sqlalchemy import event, func, select, text

from tests.api.helpers import bearer, org_with_key
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.usage.models import UsageEvent


def _event(i):
    return {"event_id": f"lean-{i}", "event_type": "api.request", "timestamp": utcnow().isoformat()}


@pytest.mark.postgres
def test_single_events_survive_a_dropped_idle_connection(client, ctx):
    _, org, _, plain = org_with_key()
    for i in range(3):  # the first request fills the auth cache; the others take the lean path
        r = client.client.post("/api/v1/usage-events", json=_event(i), headers=bearer(plain))
        assert r.status_code == 200 and r.json["accepted"] == [f"lean-{i}"]
    engine = current_app.extensions["tessera.usage_ingest_engine"]
    idle = [engine.raw_connection() for _ in range(engine.pool.checkedin())]  # every pooled connection
    assert idle
    pids = []
    for raw in idle:
        cursor = raw.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
        cursor.close()
    for raw in idle:
        raw.close()
    discarded = []
    event.listen(engine.pool, "invalidate", lambda *args: discarded.append(args))

    # The server drops those idle connections (a restart, an idle timeout in a proxy).
    for pid in pids:
        assert db.session.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}) is True  # waits
    db.session.commit()

    r = client.client.post("/api/v1/usage-events", json=_event(9), headers=bearer(plain))
    assert r.status_code == 200 and r.json["accepted"] == ["lean-9"]
    assert discarded  # the dead connection was noticed, the pool renewed and the insert retried
    again = client.client.post("/api/v1/usage-events", json=_event(9), headers=bearer(plain))
    assert again.json["duplicate"] == ["lean-9"]
    stored = db.session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.organization_id == org.id))
    assert stored == 4
