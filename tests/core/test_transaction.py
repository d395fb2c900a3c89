"""core.transaction.perform: one commit, a clear refusal for the losers of a race, GET never commits."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError

from tests.billing.helpers import make_invoice, org_with_owner
from tests.factories import make_user
from webapp.billing import services as billing
from webapp.billing.models import Invoice
from webapp.core.errors import DomainError
from webapp.core.transaction import LostRace, get_may_write, perform, side_write
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.models import Organization


@pytest.mark.postgres
def test_four_concurrent_finalizations_one_wins_three_get_a_clear_refusal(app):
    with app.app_context():
        org, _ = org_with_owner()
        invoice_id = make_invoice(org, finalize=False).id
        db.session.remove()
    barrier = threading.Barrier(4)
    answers: list = []

    def finalize():
        headers = {"Accept": "application/json"}
        with app.test_request_context(f"/admin/invoices/{invoice_id}/finalize", method="POST", headers=headers):
            try:
                invoice = db.session.get(Invoice, invoice_id)
                assert invoice.status == "DRAFT"  # every request read the draft before any of them wrote
                barrier.wait()
                response = app.make_response(
                    perform(lambda: billing.finalize_invoice(invoice, None, send_email=False), then="/admin/invoices")
                )
                answers.append((response.status_code, response.get_json(silent=True)))
            except Exception as error:  # reported below: a loser must never raise
                answers.append((500, repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=finalize) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [303, 409, 409, 409], answers
    for status, body in answers:
        if status == 409:
            assert body["error"]["code"] in ("illegal_transition", "concurrent_update"), body
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.status == "ISSUED" and invoice.number.endswith("-000001")
        second = make_invoice(org_with_owner()[0])
        assert second.number.endswith("-000002")  # the losers consumed no number


@pytest.mark.postgres
def test_a_unique_violation_from_a_concurrent_commit_is_retried_and_the_service_refuses(app, ctx):
    """The first attempt loses to a row another transaction committed meanwhile; the retry runs on the
    committed state, where the service's own check gives the precise refusal."""
    user = make_user("racer@example.com")
    attempts = []

    def create():
        attempts.append(1)
        if len(attempts) == 1:
            with side_write("the other request, committing the same address first") as connection:
                connection.execute(
                    insert(Organization).values(
                        name="Other", slug="raced-co", email="o@example.com", country="ZW", timezone="UTC"
                    )
                )
            db.session.add(
                Organization(name="Mine", slug="raced-co", email="m@example.com", country="ZW", timezone="UTC")
            )
            db.session.flush()
        return orgs.create_organization(user, "Mine", "raced-co", "m@example.com", "ZW", "UTC")

    with app.test_request_context("/orgs/new", method="POST", headers={"Accept": "application/json"}):
        status, body = _answer(app, perform(create, then="/o/raced-co/"))
    assert len(attempts) == 2
    assert status == 422 and "taken" in body["error"]["message"]
    assert db.session.scalar(select(func.count()).where(Organization.slug == "raced-co")) == 1


def test_losing_twice_answers_409_and_a_domain_error_rolls_back(app, ctx):
    class Serialization(Exception):
        sqlstate = "40001"

    calls = []

    def always_loses():
        calls.append(1)
        raise OperationalError("UPDATE invoices ...", {}, Serialization())

    with app.test_request_context("/api/v1/anything", method="POST"):
        status, body = _answer(app, perform(always_loses, then="/"))
    assert status == 409 and body["error"]["code"] == LostRace.code and len(calls) == 2

    user = make_user("rollback@example.com")

    def half_then_refuse():
        user.name = "Half written"
        db.session.flush()
        raise DomainError("Refused after a flush.")

    with app.test_request_context("/api/v1/anything", method="POST"):
        status, body = _answer(app, perform(half_then_refuse, then="/"))
    assert status == 422 and body["error"]["message"] == "Refused after a flush."
    db.session.expire_all()
    assert db.session.get(type(user), user.id).name != "Half written"


def test_get_never_performs_unless_the_view_says_why(app: Flask, ctx):
    with app.test_request_context("/o/", method="GET"), pytest.raises(RuntimeError, match="GET never commits"):
        perform(lambda: None, then="/")

    @get_may_write("records the click on a referral link")
    def click_view():
        return perform(lambda: None, then="/thanks")

    app.view_functions["sweep_click"] = click_view
    try:
        with app.test_request_context("/r/abc", method="GET") as context:
            context.request.url_rule = SimpleNamespace(endpoint="sweep_click")  # as if routed to click_view
            assert app.make_response(click_view()).status_code == 303
    finally:
        del app.view_functions["sweep_click"]


def _answer(app, result):
    response = app.make_response(result)
    return response.status_code, response.get_json(silent=True)


def test_strict_mode_refuses_a_commit_outside_perform_but_not_a_savepoint(app, ctx):
    from webapp.alerts.models import SystemAlert

    before = app.config["STRICT_TRANSACTIONS"]
    app.config["STRICT_TRANSACTIONS"] = True
    try:
        with app.test_request_context("/o/x/anything", method="POST"):
            with db.session.begin_nested():  # a subscriber's savepoint commits nothing by itself
                db.session.add(SystemAlert(severity="INFO", source="strict", message="m", fingerprint="f"))
            with pytest.raises(RuntimeError, match="committed outside"):
                db.session.commit()
            db.session.rollback()
            assert app.make_response(perform(lambda: None, then="/done")).status_code == 303
    finally:
        app.config["STRICT_TRANSACTIONS"] = before
