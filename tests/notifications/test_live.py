import time

from sqlalchemy import delete, func, select

from tests.factories import make_user
from webapp.extensions import db
from webapp.notifications import jobs
from webapp.notifications.models import LiveSession


def test_silent_sessions_are_cleaned_and_staff_see_the_open_count(app, client):
    import time_machine

    with app.app_context():
        # A stream of the previous test may still be winding down on the live server: let it close,
        # then start from an empty table so the counts below are this test's alone.
        deadline = time.monotonic() + 10
        while db.session.scalar(select(func.count()).select_from(LiveSession).where(LiveSession.status == "OPEN")):
            if time.monotonic() > deadline:
                break
            db.session.rollback()
            time.sleep(0.2)
        db.session.execute(delete(LiveSession))
        db.session.commit()
        user = make_user("quiet@example.com")
        staff = make_user("ops@example.com", staff=True)
        from webapp.notifications import live

        with time_machine.travel("2026-05-01 10:00:00+00:00", tick=False):
            live.open_session(user.id, None, "old-tab")
        live.open_session(user.id, None, "fresh-tab")
        db.session.commit()
        assert staff.id
    client.login("ops@example.com")
    assert ">2</strong>" in client.get("/admin/live/").get_data(as_text=True)
    with app.app_context():
        assert jobs.close_silent_sessions() == 1
    page = client.get("/admin/live/").get_data(as_text=True)
    assert ">1</strong>" in page and "STALE" in page
