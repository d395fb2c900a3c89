"""Starting a sync is a claim (one running sync per connection): a start that loses a race is a
clear refusal (a flash), never a 500, and a retried start queues one sync."""

from sqlalchemy import func, select

from tests.factories import make_org, make_user
from tests.races import lose_commits
from webapp.extensions import db
from webapp.integrations.models import Connection, DriveSyncLog


def _drive(org, user) -> Connection:
    connection = Connection(
        organization_id=org.id,
        created_by_id=user.id,
        provider="google_drive",
        account_id="drive-1",
        account_name="Drive",
        status=Connection.CONNECTED,
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def _syncs(connection) -> int:
    return db.session.scalar(
        select(func.count()).select_from(DriveSyncLog).where(DriveSyncLog.connection_id == connection.id)
    )


def test_a_sync_start_that_loses_the_race_twice_is_a_flash_and_starts_nothing(client, ctx, monkeypatch):
    owner = make_user()
    org = make_org(owner)
    connection = _drive(org, owner)
    client.login(owner.email)
    lost = lose_commits(monkeypatch, times=2)
    answer = client.post(f"/o/{org.slug}/integrations/connections/{connection.id}/sync")
    assert answer.status_code == 303 and len(lost) == 2
    page = client.get(f"/o/{org.slug}/integrations/connections/{connection.id}/").get_data(as_text=True)
    assert "Someone else changed this" in page
    assert _syncs(connection) == 0


def test_a_sync_start_that_loses_once_starts_one_sync_and_a_second_start_is_refused(client, ctx, monkeypatch):
    owner = make_user()
    org = make_org(owner)
    connection = _drive(org, owner)
    client.login(owner.email)
    lost = lose_commits(monkeypatch, times=1)
    assert client.post(f"/o/{org.slug}/integrations/connections/{connection.id}/sync").status_code == 303 and lost
    assert _syncs(connection) == 1
    again = client.post(f"/o/{org.slug}/integrations/connections/{connection.id}/sync")
    assert again.status_code == 303
    page = client.get(f"/o/{org.slug}/integrations/connections/{connection.id}/").get_data(as_text=True)
    assert "already running" in page
    assert _syncs(connection) == 1
