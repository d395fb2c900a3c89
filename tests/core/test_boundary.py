"""Issue 12's examples, each through the route a person or a program takes: hostile input is refused
at the boundary (webapp.core.boundary, webapp.core.parsing, webapp.core.money) with a clear answer,
never a 500, and nothing is written."""

from __future__ import annotations

import io
import json
import threading

import httpx
import pytest
from sqlalchemy import func, select

from tests.billing.helpers import make_invoice
from tests.factories import make_org, make_user
from webapp.api import services as api_keys
from webapp.api.models import SCOPES, ApiKey
from webapp.core.boundary import JSON_MAX_DEPTH, load_json
from webapp.core.models import utcnow
from webapp.core.parsing import BIGINT_MAX, parse_date, parse_instant, parse_int, parse_month
from webapp.extensions import db
from webapp.orgs.models import Organization
from webapp.support.models import SupportTicket
from webapp.workflows.models import Workflow

NUL = "Mutare\x00Mills"
BIG = str(2**63)


def _owner(client, email="owner@example.com", *, staff=False):
    user = make_user(email, staff=staff)
    org = make_org(user, "Boundary Co", "boundary-co")
    client.login(email)
    return user, org


def _key(org, user) -> str:
    _, plain = api_keys.create_key(org, user, "boundary", list(SCOPES), 100_000, None)
    db.session.commit()
    return plain


def _refused_characters(response, status=422):
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    assert "cannot be stored" in text


# ------------------------------------------------------------------ NUL in text fields, any domain


@pytest.mark.parametrize(
    ("path", "fields", "count"),
    [
        ("/account/profile", {"name": NUL}, None),
        (
            "/orgs/new",
            {"name": NUL, "slug": "nul-co", "email": "a@example.com", "country": "ZW", "timezone": "UTC"},
            Organization,
        ),
        ("/o/boundary-co/settings", {"name": NUL, "email": "a@example.com", "country": "ZW", "timezone": "UTC"}, None),
        ("/o/boundary-co/support/new", {"subject": NUL, "description": "d", "priority": "NORMAL"}, SupportTicket),
        ("/o/boundary-co/projects/", {"name": NUL, "description": ""}, None),
        ("/o/boundary-co/workflows/new", {"name": NUL, "trigger_type": "manual"}, Workflow),
        ("/o/boundary-co/api-keys", {"name": NUL, "scopes": "usage:read", "rate_limit": "10"}, ApiKey),
        ("/o/boundary-co/ai/chat", {"question": "How\x00?"}, None),
    ],
)
def test_a_nul_in_any_form_field_is_a_readable_422_and_writes_nothing(client, ctx, path, fields, count):
    _owner(client)
    before = db.session.scalar(select(func.count()).select_from(count)) if count else None
    _refused_characters(client.post(path, fields))
    if count:
        assert db.session.scalar(select(func.count()).select_from(count)) == before
    assert db.session.scalar(select(Organization.name).where(Organization.slug == "boundary-co")) == "Boundary Co"


def test_a_nul_in_sign_up_fields_and_an_upload_name(client, ctx):
    _refused_characters(client.post("/auth/signup", {"email": "a\x00@example.com", "password": "x" * 12, "name": "A"}))
    _owner(client)
    upload = client.post(
        "/o/boundary-co/files/",
        {"category": "PROJECT_ASSET", "file": (io.BytesIO(b"%PDF-1.4 x"), "report\x00.pdf")},
        content_type="multipart/form-data",
    )
    _refused_characters(upload)


def test_a_nul_in_a_path_or_a_query_argument(client, ctx):
    _owner(client, staff=True)
    _refused_characters(client.get("/pay/abc%00def"), status=400)
    _refused_characters(client.get("/r/abc%00def"), status=400)
    for url in ("/admin/orgs?q=%00", "/admin/users?q=a%00", "/admin/audit?action=%00", "/admin/emails?to=%00"):
        _refused_characters(client.get(url))
    as_json = client.get("/admin/orgs?q=%00", headers={"Accept": "application/json"})
    assert as_json.status_code == 422 and as_json.json["error"]["code"] == "invalid_characters"
    assert as_json.json["error"]["details"] == {"field": "q", "in": "query"}


def test_the_api_refuses_a_nul_filter_with_its_stable_code(client, ctx):
    user, org = _owner(client)
    headers = {"Authorization": f"Bearer {_key(org, user)}"}
    answer = client.get("/api/v1/invoices?status=%00", headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_characters"
    unknown = client.get("/api/v1/invoices?status=DRAFT", headers=headers)
    assert unknown.status_code == 422 and unknown.json["error"]["code"] == "invalid_parameter"
    lower = client.get("/api/v1/services?status=active", headers=headers)  # the document's enum is upper case
    assert lower.status_code == 422 and lower.json["error"]["details"]["param"] == "status"


def test_lone_surrogates_in_json_are_refused(client, ctx):
    user, org = _owner(client)
    headers = {"Authorization": f"Bearer {_key(org, user)}", "Content-Type": "application/json"}
    body = '{"event_id": "e\\ud800", "event_type": "pos.transaction", "timestamp": "2026-12-01T00:00:00Z"}'
    answer = client.client.post("/api/v1/usage-events", data=body, headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_characters"
    assert answer.json["error"]["details"] == {"field": "event_id", "in": "json"}
    now = utcnow().isoformat()
    paired = json.dumps({"event_id": "e1", "event_type": "pos.transaction", "timestamp": now, "data": {"n": "😀"}})
    assert client.client.post("/api/v1/usage-events", data=paired, headers=headers).status_code == 200  # an emoji


# ------------------------------------------------------------------ integers beyond BIGINT, '²', dates


def test_ids_beyond_bigint_in_paths_are_404_everywhere(client, ctx):
    user, org = _owner(client, staff=True)
    headers = {"Authorization": f"Bearer {_key(org, user)}"}
    api = client.get(f"/api/v1/invoices/{BIG}", headers=headers)
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
    huge = "9" * 20
    for url in (
        f"/o/{org.slug}/billing/invoices/{huge}",
        f"/o/{org.slug}/support/{huge}",
        f"/o/{org.slug}/projects/{huge}",
        f"/o/{org.slug}/workflows/{huge}",
        f"/admin/orgs/{BIG}",
        f"/admin/users/{huge}",
        f"/admin/support/{BIG}",
        f"/admin/invoices/{BIG}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/admin/orgs/{BIGINT_MAX}").status_code == 404  # the largest id is still an id


def test_cursors_limits_and_before_take_ascii_digits_within_bigint(client, ctx):
    user, org = _owner(client, staff=True)
    headers = {"Authorization": f"Bearer {_key(org, user)}"}
    for query, code in (
        ("cursor=99999999999999999999", "invalid_cursor"),
        ("cursor=%C2%B2", "invalid_cursor"),
        ("cursor=%EF%BC%91", "invalid_cursor"),  # a full-width one
        ("limit=%C2%B2", "invalid_parameter"),
        ("limit=%D9%A3", "invalid_parameter"),  # an Arabic-Indic three
    ):
        answer = client.get(f"/api/v1/invoices?{query}", headers=headers)
        assert answer.status_code == 422 and answer.json["error"]["code"] == code, query
    assert client.get("/api/v1/invoices?limit=3&cursor=9223372036854775807", headers=headers).status_code == 200
    for url in ("/admin/audit?before=99999999999999999999", "/admin/audit?before=%C2%B2"):
        page = client.get(url)
        assert page.status_code == 422 and "Correct the filters" in page.get_data(as_text=True)
    assert client.get("/admin/emails?before=99999999999999999999").status_code == 200  # a bad cursor: first page
    assert client.get(f"/admin/support/?assignee={BIG}").status_code == 200
    assert client.get(f"/o/{org.slug}/usage?before={BIG}&days=%C2%B2").status_code == 200


def test_dates_are_held_to_a_sane_range(client, ctx):
    user, org = _owner(client, staff=True)
    headers = {"Authorization": f"Bearer {_key(org, user)}"}
    for query in ("from=0000-03", "to=9999-12", "from=2026-13", "from=%D9%A2%D9%A0%D9%A2%D9%A6-01"):
        answer = client.get(f"/api/v1/usage?{query}", headers=headers)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_parameter", query
    wide = client.get("/api/v1/usage?from=1990-01&to=2100-01", headers=headers)
    assert wide.status_code == 422 and "24 months" in wide.json["error"]["message"]
    for query in ("since=0000-01-01", "until=9999-12-31", "since=0001-01-01"):
        page = client.get(f"/admin/audit?{query}")
        assert page.status_code == 422 and "Enter a date" in page.get_data(as_text=True), query


def test_parsers_accept_only_what_a_person_means():
    assert parse_int(" 42 ") == 42 and parse_int(str(BIGINT_MAX)) == BIGINT_MAX
    for bad in ("²", "\uff11\uff12", "\u0661\u0662", "1_000", "+1", "-1", "", str(BIGINT_MAX + 1), "9" * 5000):
        with pytest.raises(ValueError):
            parse_int(bad)
    assert parse_int("-5", signed=True, minimum=-10) == -5
    assert parse_date("2026-02-28").day == 28
    for bad in ("0000-01-01", "2026-02-30", "9999-12-31", "\uff12\uff10\uff12\uff16-01-01", "2026-1-1"):
        with pytest.raises(ValueError):
            parse_date(bad)
    assert parse_month("2026-11").month == 11
    with pytest.raises(ValueError):
        parse_month("0000-03")


def test_instants_are_rfc_3339_with_a_zone_within_the_years_the_document_states():
    assert parse_instant("2026-11-23t10:00:00z").isoformat() == "2026-11-23T10:00:00+00:00"
    assert parse_instant("2026-11-23T10:00:00+09:00").hour == 1
    assert parse_instant("2016-12-31T23:59:60Z").second == 59
    # Year 1 east of UTC overflows on the way to UTC; years outside the document's range, no zone,
    # Python's wider ISO 8601 forms and non-strings are no instant.
    for bad in (
        "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
        "0972-02-19T23:46:55Z",
        "2026-11-23T10:00:00",
        "2026-11-23T10:00Z",
        "2026-13-01T00:00:00Z",
        20261123,
        "x" * 41,
    ):
        assert parse_instant(bad) is None, bad


def test_a_timestamp_at_the_edge_of_the_calendar_is_a_422_not_a_500(client, ctx):
    user, org = _owner(client)
    headers = {"Authorization": f"Bearer {_key(org, user)}"}
    for stamp in ("0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"):
        event = {"event_id": "edge", "event_type": "a", "timestamp": stamp}
        answer = client.client.post("/api/v1/usage-events", json=event, headers=headers)
        assert answer.status_code == 422, stamp
        assert answer.json["error"]["details"]["rejected"][0]["code"] == "invalid_timestamp", stamp
        listed = client.get("/api/v1/events", query_string={"created[gte]": stamp}, headers=headers)
        assert listed.status_code == 422 and listed.json["error"]["code"] == "invalid_parameter", stamp


# ------------------------------------------------------------------ JSON depth and body size


def test_deep_json_is_a_422_on_the_api_and_the_workflow_webhook(client, ctx):
    user, org = _owner(client)
    deep = "[" * 100_000 + "]" * 100_000
    headers = {"Authorization": f"Bearer {_key(org, user)}", "Content-Type": "application/json"}
    answer = client.client.post("/api/v1/usage-events", data=deep, headers=headers)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "json_too_deep"
    from webapp.workflows import services as workflows

    workflow = workflows.create_workflow(org, user, "Hook", "", "webhook", {})
    workflow.enabled = True  # no steps needed: the run starts and finds nothing to do
    db.session.commit()
    url = f"/webhooks/workflows/{workflow.id}/{workflows.webhook_secret(workflow)}"
    deep_but_small = "[" * 5_000 + "]" * 5_000  # under the webhook's byte limit, so the depth is what refuses it
    hook = client.client.post(url, data=deep_but_small, content_type="application/json")
    assert hook.status_code == 422 and hook.json["error"]["code"] == "json_too_deep"
    nested_ok = json.dumps({"a": [[[{"b": 1}]]]})
    assert client.client.post(url, data=nested_ok, content_type="application/json").status_code == 202


def test_load_json_counts_depth_before_parsing_and_ignores_brackets_in_strings():
    assert load_json("[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH)
    assert load_json(json.dumps({"text": "[" * 1000})) == {"text": "[" * 1000}
    with pytest.raises(ValueError):
        load_json("{not json")


def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_chunked_20_mb_body_is_refused_once_the_limit_is_read(app, live_server, ctx):
    user = make_user("chunk@example.com")
    org = make_org(user, "Chunk Co", "chunk-co")
    key = _key(org, user)
    read = threading.Event()

    def body():
        read.set()
        yield from _chunks(20 * 1024 * 1024)

    try:
        answer = httpx.post(
            f"{live_server}/api/v1/usage-events",
            content=body(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=60,
        )
    except httpx.HTTPError:
        pytest.fail("the server dropped the connection instead of answering 413")
    assert read.is_set() and "content-length" not in {h.lower() for h in answer.request.headers}
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
    assert answer.json()["error"]["details"]["max_bytes"] == 5 * 1024 * 1024


# ------------------------------------------------------------------ money typed by staff


def test_staff_money_fields_take_ascii_digits_and_have_a_ceiling(client, ctx):
    staff = make_user("till@example.com", staff=True)
    org = make_org(make_user("payer@example.com"), "Payer Co", "payer-co")
    invoice = make_invoice(org, lines=((1, 171_350),))
    client.login(staff.email)
    full_width, arabic_indic = "\uff11\uff17\uff11\uff13.\uff15\uff10", "\u0661\u0667\u0661\u0663.\u0665\u0660"
    for amount in ("999999999999.99", full_width, arabic_indic, "1e3"):
        answer = client.post(
            f"/admin/invoices/{invoice.id}/payments", {"amount": amount, "method": "CASH", "reference": "R"}
        )
        assert answer.status_code == 422, amount
    db.session.refresh(invoice)
    assert invoice.amount_paid == 0


# ------------------------------------------------------------------ wrong methods, the staff thread page


def test_a_wrong_method_on_the_api_is_405_with_allow(client, ctx):
    answer = client.client.delete("/api/v1/usage")
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert answer.json["error"]["code"] == "method_not_allowed"
    missing = client.client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and "openapi.json" in missing.json["error"]["message"]


def test_the_staff_thread_opened_as_a_page_is_the_whole_ticket_page(client, ctx):
    from webapp.support import services as desk

    customer = make_user("asker@example.com")
    org = make_org(customer, "Asker Co", "asker-co")
    ticket = desk.open_ticket(org, customer, "Till is offline", "Since 9am", "HIGH", None)
    db.session.commit()
    staff = make_user("desk@example.com", staff=True)
    client.login(staff.email)
    page = client.get(f"/admin/support/{ticket.id}/thread")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in text and "Till is offline" in text and 'name="assignee_id"' in text
    poll = client.get(f"/admin/support/{ticket.id}/thread", htmx=True, headers={"HX-Target": "staff_thread"})
    assert poll.status_code == 200 and "<html" not in poll.get_data(as_text=True)
