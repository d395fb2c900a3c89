"""One owner for each request's transaction (indico's request-handler discipline).

A route parses and authorizes, then hands the state change to ``perform``: it runs the service
call, commits once, and answers the one right way. Services flush but never commit; routes never
write ``commit()`` or ``except DomainError``::

    @bp.post("/o/<slug>/members/<int:membership_id>/remove")
    @org_view("members")
    def remove_member(org, membership_id):
        target = org_object_or_404(Membership, org, membership_id)
        return perform(
            lambda: orgs.remove_member(org, g.membership, target),
            then=url_for("orgs.members", slug=org.slug),
            success=f"{target.user.display_name} was removed.",
        )

A refusal (a ``DomainError`` from the service, or losing a race to another request) rolls the
transaction back, so nothing is half-written, and answers:

- under ``/api/`` or to a client asking for JSON: the JSON error with its stable code;
- with ``form=``: the message on the form's field, then ``failed(error)`` (re-render the page, 422);
- with ``failed=``: whatever ``failed(error)`` returns (a URL string redirects there);
- otherwise: the message as a flash, and a redirect to ``then`` when it is a URL.

``then`` is what a success answers: a URL (303 redirect, which htmx turns into ``HX-Redirect``) or a
callable given the service's result. ``trigger`` adds an ``HX-Trigger`` event to the success.

Part-way commits (a job step, releasing a connection before a slow provider call) go through
``commit_progress(reason)``, which says in the code why the work commits before its end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, flash, g, has_request_context, make_response, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.core.errors import Conflict, DomainError
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, set_trigger
from webapp.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs that mean "another transaction got there first": serialization failure, deadlock,
# lock not available (NOWAIT / lock_timeout). The loser gets a refusal, never a 500.
CONCURRENCY_SQLSTATES = {"40001", "40P01", "55P03"}
RACE_MESSAGE = "Someone else changed this at the same moment. Reload the page and try again."


class LostRace(Conflict):
    code = "concurrent_update"


def is_lost_race(error: BaseException) -> bool:
    if isinstance(error, StaleDataError):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return sqlstate in CONCURRENCY_SQLSTATES
    return False


def perform(
    action: Callable[[], T],
    *,
    then: str | Callable[[T], ResponseReturnValue],
    success: str | Callable[[T], str] | None = None,
    form: FlaskForm | None = None,
    failed: str | Callable[[DomainError], ResponseReturnValue] | None = None,
    trigger: str | dict | None = None,
) -> ResponseReturnValue:
    """Run ``action``, commit once, answer ``then``; on a refusal roll back and answer per the rules above."""
    try:
        result = action()
        _commit()
    except DomainError as error:
        db.session.rollback()
        return refuse(error, form=form, failed=failed, then=then)
    except DBAPIError as error:
        db.session.rollback()
        if not is_lost_race(error):
            raise
        log.info("request lost a race: %s", error.orig)
        return refuse(LostRace(RACE_MESSAGE), form=form, failed=failed, then=then)
    except StaleDataError:
        db.session.rollback()
        return refuse(LostRace(RACE_MESSAGE), form=form, failed=failed, then=then)
    if success:
        flash(success(result) if callable(success) else success, "success")
    answer = redirect(then) if isinstance(then, str) else then(result)
    if trigger:
        answer = make_response(answer)
        set_trigger(answer, trigger)
    return answer


def refuse(
    error: DomainError,
    *,
    form: FlaskForm | None = None,
    failed: str | Callable[[DomainError], ResponseReturnValue] | None = None,
    then: str | Callable[..., ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """Answer a refusal the one right way (see the module docstring). The transaction is already rolled back."""
    from webapp.core.security import error_response, wants_json

    if wants_json():
        return error_response(error.status, error.code, error.message, error.details)
    if error.status == 403 and form is None and failed is None:
        abort(403)
    if form is not None:
        apply_error(form, error)
        if failed is None:
            raise TypeError("perform(form=...) needs failed= to re-render the form with its errors")
    elif failed is None or isinstance(failed, str):
        flash(error.message, "error")
        target = failed if isinstance(failed, str) else then
        if not isinstance(target, str):
            raise TypeError("perform() needs failed= when then= is not a URL")
        return redirect(target)
    if isinstance(failed, str):
        return redirect(failed)
    return failed(error)


def _commit() -> None:
    g._tessera_committing = True
    try:
        db.session.commit()
    finally:
        g._tessera_committing = False


def commit_progress(reason: str) -> None:
    """Commit part-way through long work (a job step, before a slow provider call). ``reason`` says why."""
    log.debug("committing part-way: %s", reason)
    if has_request_context():
        _commit()
    else:
        db.session.commit()


@event.listens_for(Session, "before_commit")
def _only_perform_commits(session: Session) -> None:
    """With ``STRICT_TRANSACTIONS`` (on in the tests) a commit inside a request outside ``perform`` raises."""
    if not has_request_context() or not current_app.config.get("STRICT_TRANSACTIONS"):
        return
    if g.get("_tessera_committing") or g.get("_tessera_job_running"):
        return
    raise RuntimeError(
        f"{request.method} {request.path} committed outside webapp.core.transaction.perform(); "
        "routes hand their state change to perform() and never commit themselves"
    )
