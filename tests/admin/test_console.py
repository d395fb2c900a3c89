"""The staff console through its routes: organizations, users (suspend), settings, the audit log,
the e-mail log and the job queues."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import REDIS_UP
from tests.factories import add_member, make_org, make_user
from webapp.audit import record
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.settings import DEFINITIONS, define
from webapp.settings.services import update_setting

needs_redis = pytest.mark.skipif(not REDIS_UP, reason="needs Redis at TEST_REDIS_URL")


@pytest.fixture
def staff(app, client):
    """A logged-in staff client. Data is made in short app contexts (see tests/core/test_shell.py)."""
    with app.app_context():
        user_id = make_user("ops@example.com", name="Ops", staff=True).id
    client.login("ops@example.com")
    client.user_id = user_id
    return client


def _text(response) -> str:
    return response.get_data(as_text=True)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# Organizations ---------------------------------------------------------------------------------


def test_organizations_search_by_name_slug_and_email(app, staff):
    with app.app_context():
        owner = make_user("tariro@harare.example")
        make_org(owner, "Harare Retail", "harare-retail")
        other = make_user("kenji@kyoto.example")
        make_org(other, "Kyoto Creators", "kyoto-creators")
    assert "Harare Retail" in _text(staff.get("/admin/orgs?q=harare"))
    by_slug = _text(staff.get("/admin/orgs?q=kyoto-cre"))
    assert "Kyoto Creators" in by_slug and "Harare Retail" not in by_slug
    by_email = _text(staff.get("/admin/orgs?q=TARIRO@harare"))
    assert "Harare Retail" in by_email and "Kyoto Creators" not in by_email
    nothing = _text(staff.get("/admin/orgs?q=100%25_nothing"))
    assert "No organization matches" in nothing


def test_organizations_paginate_with_the_page_size_setting(app, staff):
    with app.app_context():
        update_setting("admin.page_size", "5", None)
        owner = make_user("many@example.com")
        for i in range(7):
            make_org(owner, f"Team {i:02d}", f"team-{i:02d}")
        db.session.commit()
    first = _text(staff.get("/admin/orgs?q=team-"))
    assert "Page 1 of 2 · 7 in all" in first
    assert "Team 06" in first and "Team 02" in first and "Team 01" not in first  # newest first
    assert 'href="/admin/orgs?q=team-&amp;page=2"' in first
    second = _text(staff.get("/admin/orgs?q=team-&page=2"))
    assert "Team 01" in second and "Team 00" in second and "Team 06" not in second
    beyond = _text(staff.get("/admin/orgs?q=team-&page=99"))  # past the end: the last page
    assert "Page 2 of 2" in beyond
    assert staff.get("/admin/orgs?page=abc").status_code == 200


def test_organization_detail_shows_members_and_recent_audit(app, staff):
    with app.app_context():
        owner = make_user("owner@example.com")
        org = make_org(owner, "Bulawayo Foods", "bulawayo-foods")
        add_member(org, make_user("clerk@example.com"), "BILLING")
        record(owner, "org.renamed", org, {"from": "BF"})
        db.session.commit()
        org_id = org.id
    page = _text(staff.get(f"/admin/orgs/{org_id}"))
    assert "Bulawayo Foods" in page and "owner@example.com" in page and "clerk@example.com" in page
    assert "Billing" in page and "org.renamed" in page
    assert f'href="/admin/audit?org={org_id}"' in page
    assert staff.get("/admin/orgs/999999").status_code == 404


# Users -----------------------------------------------------------------------------------------


def test_users_search_and_status_filter(app, staff):
    with app.app_context():
        make_user("rudo@example.com", name="Rudo Moyo")
        make_user("pending@example.com", verified=False)
    assert "rudo@example.com" in _text(staff.get("/admin/users?q=moyo"))
    unverified = _text(staff.get("/admin/users?status=unverified"))
    assert "pending@example.com" in unverified and "rudo@example.com" not in unverified
    staff_only = _text(staff.get("/admin/users?status=staff"))
    assert "ops@example.com" in staff_only and "rudo@example.com" not in staff_only


def test_suspending_a_user_ends_their_sessions_and_is_audited(app, staff, make_client):
    with app.app_context():
        user = make_user("chipo@example.com")
        make_org(user, "Chipo Co", "chipo-co")
        user_id = user.id
    theirs = make_client()
    theirs.login("chipo@example.com")
    assert theirs.get("/account/").status_code == 200

    detail = _text(staff.get(f"/admin/users/{user_id}"))
    assert "Chipo Co" in detail and "Active" in detail and "Suspend this account" in detail

    response = staff.post(f"/admin/users/{user_id}/suspend", {"reason": "Chargeback fraud"})
    assert response.status_code == 303
    assert "is suspended; 1 session(s) ended." in _text(staff.get(response.headers["Location"]))

    assert theirs.get("/account/").status_code == 302  # logged out on the next request
    again = make_client().post("/auth/login", {"email": "chipo@example.com", "password": "correct horse battery"})
    assert "suspended" in _text(again)

    with app.app_context():
        (entry,) = _audit("user.suspended")
        assert entry.actor_id == staff.user_id and entry.entity_id == user_id
        assert entry.details == {"reason": "Chargeback fraud", "sessions_revoked": 1}

    page = _text(staff.get(f"/admin/users/{user_id}"))
    assert "Lift the suspension" in page and "Ended" in page
    assert staff.post(f"/admin/users/{user_id}/unsuspend").status_code == 303
    make_client().login("chipo@example.com")  # can log in again
    with app.app_context():
        assert len(_audit("user.unsuspended")) == 1


def test_suspend_refusals(app, staff):
    own = _text(staff.post(f"/admin/users/{staff.user_id}/suspend", {"reason": ""}))
    assert "You cannot suspend your own account." in own
    with app.app_context():
        user_id = make_user("twice@example.com").id
    staff.post(f"/admin/users/{user_id}/suspend", {"reason": "first"})
    twice = staff.post(f"/admin/users/{user_id}/suspend", {"reason": "second"})
    assert twice.status_code == 422 and "already suspended" in _text(twice)
    with app.app_context():
        other_id = make_user("verbose@example.com").id
    long_reason = staff.post(f"/admin/users/{other_id}/suspend", {"reason": "x" * 501})
    assert long_reason.status_code == 422 and "500" in _text(long_reason)
    not_suspended = staff.post(f"/admin/users/{staff.user_id}/unsuspend", follow_redirects=True)
    assert "This account is not suspended." in _text(not_suspended)
    assert staff.post("/admin/users/999999/suspend", {"reason": "x"}).status_code == 404
    with app.app_context():
        assert len(_audit("user.suspended")) == 1


# System settings -------------------------------------------------------------------------------


@pytest.fixture
def test_settings():
    added = [
        define("test.enabled", bool, True, "A switch"),
        define("test.domains", list, ["example.com"], "Allowed domains"),
        define("test.mode", str, "fast", "Mode", choices=("fast", "careful")),
    ]
    yield added
    for definition in added:
        DEFINITIONS.pop(definition.key, None)


def test_settings_list_every_definition_with_type_default_and_value(app, staff, test_settings):
    page = _text(staff.get("/admin/settings"))
    for key, definition in DEFINITIONS.items():
        row = re.search(rf'<tr id="setting-{re.escape(key.replace(".", "-"))}">(.*?)</tr>', page, re.S)
        assert row, key
        words = {"int": "Whole number", "str": "Text", "bool": "On or off", "list": "List"}[definition.type.__name__]
        assert f"<td>{words}</td>" in row.group(1) and f"<code>{key}</code>" in row.group(1)
        assert f"{definition.title}</strong>" in row.group(1)
        assert f"<code>{definition.dump(definition.default)}</code>" in row.group(1)
        assert "default</small>" in row.group(1)


def test_editing_a_setting_validates_its_type_and_is_audited(app, staff):
    for bad, message in (("twelve", "enter a whole number"), ("2", "must be at least 5"), ("999", "at most 200")):
        response = staff.post("/admin/settings/admin.page_size", {"value": bad})
        assert response.status_code == 422 and message in _text(response), bad
        # the form macro: a labelled field, marked invalid, its error beside it, the value kept
        field = re.search(
            r'<label for="value">Page size\s*<input[^>]*>\s*<small id="value-help" class="field-error">',
            _text(response),
        )
        assert field and 'aria-invalid="true"' in field.group(0) and f'value="{bad}"' in field.group(0)
    with app.app_context():
        assert _audit("setting.updated") == []

    assert staff.post("/admin/settings/admin.page_size", {"value": " 40 "}).status_code == 303
    page = _text(staff.get("/admin/settings"))
    row = re.search(r'<tr id="setting-admin-page_size">(.*?)</tr>', page, re.S).group(1)
    assert "<strong><code>40</code></strong>" in row and "Reset" in row
    with app.app_context():
        from webapp.settings import get

        assert get("admin.page_size") == 40
        (entry,) = _audit("setting.updated")
        assert entry.details == {"key": "admin.page_size", "old": "25", "new": "40"}
        assert entry.actor_label == "ops@example.com"

    assert staff.post("/admin/settings/admin.page_size/reset").status_code == 303
    with app.app_context():
        from webapp.settings import get

        assert get("admin.page_size") == 25
        assert _audit("setting.reset")[0].details["old"] == "40"
    assert staff.get("/admin/settings/no.such.setting").status_code == 404


def test_bool_list_and_choice_settings(app, staff, test_settings):
    assert staff.post("/admin/settings/test.enabled", {}).status_code == 303  # unchecked box: off
    assert staff.post("/admin/settings/test.domains", {"value": "a.example, b.example,,"}).status_code == 303
    bad_choice = staff.post("/admin/settings/test.mode", {"value": "reckless"})
    assert bad_choice.status_code == 422 and "Not a valid choice" in _text(bad_choice)
    assert staff.post("/admin/settings/test.mode", {"value": "careful"}).status_code == 303
    with app.app_context():
        from webapp.settings import get

        assert get("test.enabled") is False
        assert get("test.domains") == ["a.example", "b.example"]
        assert get("test.mode") == "careful"
    form = _text(staff.get("/admin/settings/test.mode"))
    assert '<option selected value="careful">' in form or '<option value="careful" selected' in form


# Audit log -------------------------------------------------------------------------------------


@pytest.fixture
def audit_world(app):
    with app.app_context():
        alice = make_user("alice@example.com")
        org = make_org(alice, "Alice Org", "alice-org")
        with time_machine.travel(datetime(2026, 1, 10, 12, tzinfo=UTC)):
            record(alice, "invoice.finalized", org, {"number": "INV-2026-000001"})
            db.session.flush()  # created_at is set when the row is written
        with time_machine.travel(datetime(2026, 2, 10, 12, tzinfo=UTC)):
            record(None, "invoice.overdue", org)
            record(alice, "payment.received", alice, {"cents": 1250})
            db.session.flush()
        db.session.commit()
        return {"alice": alice.id, "org": org.id}


def _actions(page: str) -> list[str]:
    return re.findall(r"<td><code>([a-z_.]+)</code></td>", page)


def test_audit_log_filters(app, staff, audit_world):
    assert _actions(_text(staff.get("/admin/audit?action=invoice.overdue"))) == ["invoice.overdue"]
    assert _actions(_text(staff.get("/admin/audit?action=invoice."))) == ["invoice.overdue", "invoice.finalized"]
    assert _actions(_text(staff.get("/admin/audit?actor=system"))) == ["invoice.overdue"]
    by_email = _actions(_text(staff.get("/admin/audit?actor=alice@example.com&action=payment.received")))
    assert by_email == ["payment.received"]
    by_id = _actions(_text(staff.get(f"/admin/audit?actor={audit_world['alice']}&since=2026-02-01")))
    assert "payment.received" in by_id and "invoice.finalized" not in by_id and "invoice.overdue" not in by_id
    entity = _actions(_text(staff.get(f"/admin/audit?entity_type=User&entity_id={audit_world['alice']}")))
    assert "payment.received" in entity and "invoice.overdue" not in entity
    by_slug = _actions(_text(staff.get("/admin/audit?org=alice-org&until=2026-01-10")))
    assert by_slug == ["invoice.finalized"]  # the end date is inclusive
    assert _actions(_text(staff.get(f"/admin/audit?org={audit_world['org']}&since=2026-01-11&until=2026-02-10"))) == [
        "invoice.overdue"
    ]


def test_audit_log_refuses_bad_filters_with_messages(staff, audit_world):
    response = staff.get("/admin/audit?since=10/01/2026&entity_id=abc&org=no-such-org")
    page = _text(response)
    assert response.status_code == 422
    assert "Enter a date like 2026-11-23." in page and "Enter the entity&#39;s numeric id." in page
    assert "No organization has that address." in page and _actions(page) == []
    backwards = staff.get("/admin/audit?since=2026-02-01&until=2026-01-01")
    assert backwards.status_code == 422 and "The end date is before the start date." in _text(backwards)


def test_audit_log_keyset_pagination_newest_first(app, staff):
    with app.app_context():
        update_setting("admin.audit_page_size", "10", None)
        for i in range(23):
            record(None, "test.tick", None, {"n": i})
        db.session.commit()
    seen: list[int] = []
    url = "/admin/audit?action=test.tick"
    pages = 0
    while url:
        page = _text(staff.get(url))
        seen += [int(n) for n in re.findall(r'<span class="kv"><span class="muted">N</span> (\d+)</span>', page)]
        older = re.search(r'href="(/admin/audit\?[^"]*before=\d+[^"]*)">Older', page)
        url = older.group(1).replace("&amp;", "&") if older else None
        pages += 1
        assert "action=test.tick" in (url or "action=test.tick")  # filters survive paging
    assert pages == 3
    assert seen == list(range(22, -1, -1))  # newest first, nothing twice, nothing skipped


# E-mail log ------------------------------------------------------------------------------------


def test_email_log_filters_by_status_and_recipient(app, staff):
    from webapp.mail import send_email
    from webapp.mail.models import EmailMessage

    with app.app_context():
        for to in ("a@example.com", "b@example.com"):
            send_email(to, "auth/verify", subject=f"Hello {to}", link="http://x/y", name="X")
        db.session.commit()
        failed = db.session.scalar(select(EmailMessage).where(EmailMessage.to_address == "b@example.com"))
        failed.status, failed.error = EmailMessage.FAILED, "SMTPServerDisconnected: gone"
        db.session.commit()
    page = _text(staff.get("/admin/emails?status=FAILED"))
    assert "b@example.com" in page and "a@example.com" not in page and "SMTPServerDisconnected" in page
    page = _text(staff.get("/admin/emails?to=A@EXAMPLE"))
    assert "a@example.com" in page and "b@example.com" not in page
    assert "No message matches" in _text(staff.get("/admin/emails?to=nobody"))
    exact = _text(staff.get("/admin/emails?to=B@Example.com"))  # a whole address, any case
    assert "b@example.com" in exact and "a@example.com" not in exact
    assert staff.get("/admin/emails/999999").status_code == 404
    assert staff.get("/admin/emails/999999/body").status_code == 404


# Job queues ------------------------------------------------------------------------------------


@needs_redis
def test_job_queues_show_counts_failures_and_retry_or_delete(app, staff):
    from tests.core import jobs_for_tests as jobs
    from tests.workers import work
    from webapp.jobs.runner import get_queue

    with app.app_context():
        jobs.always_fails.delay("one")
        jobs.always_fails.delay("two")
        jobs.write_audit.delay("waiting")
        db.session.commit()
        work([get_queue("default")], app.extensions["tessera.redis"], logging_level="CRITICAL")
        failed_ids = get_queue("default").failed_job_registry.get_job_ids()
    assert len(failed_ids) == 2

    page = _text(staff.get("/admin/jobs"))
    rows = dict(re.findall(r"<tr>\s*<td><code>(\w+)</code></td>(.*?)</tr>", page, re.S))
    assert re.findall(r"<td>(?:<a[^>]*>)?(\d+)", rows["default"])[:4] == ["0", "0", "0", "2"]
    assert re.findall(r"<td>(\d+)", rows["maintenance"])[:1] == ["1"]
    assert "ValueError: boom: one" in page and "ValueError: boom: two" in page
    assert "Traceback (most recent call last)" in page

    retried = staff.post(f"/admin/jobs/default/{failed_ids[0]}/retry", htmx=True, headers={"HX-Target": "queues"})
    fragment = _text(retried)
    assert retried.status_code == 200 and "<html" not in fragment
    assert 'hx-swap-oob="true"' in fragment and "The job is back on its queue." in fragment
    with app.app_context():
        queue = get_queue("default")
        assert queue.job_ids == [failed_ids[0]] and queue.failed_job_registry.count == 1

    deleted = staff.post(f"/admin/jobs/default/{failed_ids[1]}/delete")
    assert deleted.status_code == 303
    with app.app_context():
        assert get_queue("default").failed_job_registry.count == 0
        assert [e.details["job_id"] for e in _audit("job.retried")] == [failed_ids[0]]
        assert [e.details["job_id"] for e in _audit("job.deleted")] == [failed_ids[1]]

    gone = staff.post(f"/admin/jobs/default/{failed_ids[1]}/delete", follow_redirects=True)
    assert "not among the failed jobs any more" in _text(gone)
    assert "no such queue" in _text(staff.post("/admin/jobs/nope/x/retry", follow_redirects=True))
    filtered = staff.get("/admin/jobs?queue=nope")  # a filter naming no queue is a 404, not a crash
    assert filtered.status_code == 404 and "no such queue" in _text(filtered)


def test_job_page_says_jobs_run_in_process_without_redis(app):
    from tests.conftest import Browserish
    from tests.core.apps import make_app, shared_config

    inline = make_app({**shared_config(app), "JOBS_BACKEND": "inline", "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        make_user("solo@example.com", staff=True)
    client = Browserish(inline.test_client())
    client.login("solo@example.com")
    page = _text(client.get("/admin/jobs"))
    assert "Jobs run in-process" in page and "<table>" not in page
    assert client.post("/admin/jobs/default/x/retry").status_code == 404
    with inline.app_context():
        db.session.remove()
        db.engine.dispose()


# Query counts ----------------------------------------------------------------------------------


def _queries(app, client, url: str) -> int:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    count = 0

    def counter(*args):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def test_console_pages_cost_the_same_queries_with_more_rows(app, staff):
    from webapp.mail import send_email
    from webapp.orgs.models import Organization

    def grow(n, start):
        with app.app_context():
            owner = make_user(f"grow{start}@example.com")
            for i in range(start, start + n):
                org = make_org(owner, f"Grow {i}", f"grow-{i}")
                add_member(org, make_user(f"member{i}@example.com"), "ADMIN")
                record(owner, "test.grow", org)
                send_email(f"member{i}@example.com", "auth/verify", subject="Hi", link="http://x/y", name="M")
            db.session.commit()
            return org.id, owner.id

    org_id, owner_id = grow(2, 0)
    urls = ["/admin/orgs", "/admin/users", "/admin/audit", "/admin/emails", f"/admin/orgs/{org_id}"]
    urls.append(f"/admin/users/{owner_id}")
    before = {url: _queries(app, staff, url) for url in urls}
    grow(12, 100)
    with app.app_context():
        org = db.session.get(Organization, org_id)
        for i in range(5):  # a bigger organization and a user in more of them
            add_member(org, make_user(f"extra{i}@example.com"))
        from webapp.auth.models import User

        owner = db.session.get(User, owner_id)
        for _ in range(3):
            make_org(owner)
    after = {url: _queries(app, staff, url) for url in urls}
    assert after == before
