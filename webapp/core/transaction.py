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
- with ``form=``: the message on the form's field (the error's own, else ``field=``, else the form),
  then ``failed(error)`` (re-render the page, 422);
- with ``failed=``: whatever ``failed(error)`` returns (a URL string redirects there);
- otherwise: a ``Forbidden`` or ``NotFound`` answers the page of its status, like a refusal before
  the action; any other refusal — a plan or credit limit included, whose message says how to go
  beyond it, not "your role does not allow that" — is a flash and a redirect to ``then`` (a URL).

``then`` is what a success answers: a URL (303 redirect, which htmx turns into ``HX-Redirect``) or a
callable given the service's result. ``trigger`` adds an ``HX-Trigger`` event to the success.

Losing a race (a serialization failure, a deadlock, a lock not granted, a stale row, or a unique,
check, foreign-key or exclusion violation caused by a row another request committed meanwhile) rolls back and
runs the action once more: the rolled-back session reloads what is committed now, so the service
either succeeds or refuses with its own precise reason ("this invoice is Issued"). Losing twice
answers ``LostRace`` (409). An integrity error that repeats on the second run is a bug, not a race,
and is raised. ``retry=False`` for an action whose outside effects must not happen twice.

GET never commits: ``perform`` refuses to run for a GET or HEAD unless the view says why it must
write with ``@get_may_write("records the referral click")`` (click tracking, an OAuth callback).

A write that is not the request's business (a last-use stamp) goes through ``side_write(reason)``, on
its own connection (``own_session(reason)`` when it needs the ORM, such as a token refresh).
Part-way commits (a job step, releasing a connection before a slow provider call) go through
``commit_progress(reason)``, which says in the code why the work commits before its end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import abort, current_app, flash, g, has_request_context, make_response, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.core.errors import Conflict, DomainError, LimitExceeded
from webapp.core.forms import apply_error
from webapp.core.htmx import redirect, set_trigger
from webapp.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs that mean "another transaction got there first": serialization failure, deadlock,
# lock not available (NOWAIT / lock_timeout). The loser gets a refusal, never a 500.
CONCURRENCY_SQLSTATES = {"40001", "40P01", "55P03"}
# Constraint violations that, on a rule the service checked first, mean a concurrent commit: unique,
# check (e.g. the finalized-invoice trigger), foreign key, exclusion (two live billed periods that
# overlap). Retried once; repeated, they are a bug.
CONFLICT_SQLSTATES = {"23505", "23514", "23503", "23P01"}
RACE_MESSAGE = "Someone else changed this at the same moment. Reload the page and try again."
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LostRace(Conflict):
    code = "concurrent_update"


def _sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_lost_race(error: BaseException) -> bool:
    if isinstance(error, StaleDataError):
        return True
    return isinstance(error, DBAPIError) and _sqlstate(error) in CONCURRENCY_SQLSTATES


def is_conflict(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and _sqlstate(error) in CONFLICT_SQLSTATES


def get_may_write(reason: str):
    """Mark a GET view that must write (click tracking, an OAuth callback); ``reason`` says why.
    Only such a view may call ``perform`` on a GET."""

    def mark(view):
        view.get_writes = reason
        return view

    return mark


def _check_method() -> None:
    if not has_request_context() or request.method not in SAFE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "get_writes", None):
        raise RuntimeError(
            f"{request.method} {request.path} calls perform(): GET never commits. A view that must write "
            "on GET says why with @get_may_write(reason)."
        )


def _attempt(action: Callable[[], T]) -> T:
    result = action()
    _commit()
    return result


def perform(
    action: Callable[[], T],
    *,
    then: str | Callable[[T], ResponseReturnValue],
    success: str | Callable[[T], str] | None = None,
    form: FlaskForm | None = None,
    failed: str | Callable[[DomainError], ResponseReturnValue] | None = None,
    trigger: str | dict | None = None,
    retry: bool = True,
    field: str | None = None,
) -> ResponseReturnValue:
    """Run ``action``, commit once, answer ``then``; on a refusal roll back and answer per the rules above."""
    _check_method()
    attempts = 2 if retry else 1
    for attempt in range(1, attempts + 1):
        try:
            result = _attempt(action)
            break
        except DomainError as error:
            db.session.rollback()
            return refuse(error, form=form, failed=failed, then=then, field=field)
        except (DBAPIError, StaleDataError) as error:
            db.session.rollback()
            race, conflict = is_lost_race(error), is_conflict(error)
            if not race and not (conflict and attempt < attempts):
                raise  # not a race, or a constraint violation that repeats with the state settled: a bug
            log.info("request lost a race (attempt %d of %d): %s", attempt, attempts, getattr(error, "orig", error))
            if attempt == attempts:
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
    field: str | None = None,
) -> ResponseReturnValue:
    """Answer a refusal the one right way (see the module docstring). The transaction is already rolled back."""
    from webapp.core.security import error_response, wants_json

    if wants_json():
        return error_response(error.status, error.code, error.message, error.details)
    limit_with_a_way_back = isinstance(error, LimitExceeded) and isinstance(then, str)
    if form is None and failed is None and error.status in (403, 404) and not limit_with_a_way_back:
        abort(error.status)  # the page of that status, like a refusal before the action
    if form is not None:
        apply_error(form, error, field=field)
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


def flash_then(answer: Callable[[], ResponseReturnValue]) -> Callable[[DomainError], ResponseReturnValue]:
    """``failed=`` for an action whose page is the same either way (an htmx fragment, a redirect):
    the refusal is a flash, then ``answer()``."""

    def refused(error: DomainError) -> ResponseReturnValue:
        flash(error.message, "error")
        return answer()

    return refused


def _commit() -> None:
    g._tessera_committing = True
    try:
        db.session.commit()
    finally:
        g._tessera_committing = False


@contextmanager
def side_write(reason: str) -> Iterator[Connection]:
    """A small write on its own connection and transaction, apart from the request's: a last-use stamp
    or a counter that is no part of the request's change and stays whatever its outcome. ``reason``
    says what it is; keep it to one short statement (it takes a second connection from the pool)."""
    log.debug("side write: %s", reason)
    with db.engine.begin() as connection:
        yield connection


def own_session(reason: str, **kwargs) -> Session:
    """A session on its own connection and transaction, apart from the request's, for work that must
    commit whatever the request's outcome (a token refresh under a row lock, which the provider has
    already rotated). ``reason`` says why; its commits are its own, never the request's."""
    log.debug("own session: %s", reason)
    return Session(db.engine, info={"own_transaction": reason}, **kwargs)


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
    if session.in_nested_transaction():
        return  # releasing a SAVEPOINT (begin_nested) commits nothing; the outer transaction still decides
    if session.info.get("own_transaction"):
        return  # a session of its own (``own_session(reason)``): like ``side_write``, not the request's change
    if g.get("_tessera_committing") or g.get("_tessera_job_running"):
        return
    raise RuntimeError(
        f"{request.method} {request.path} committed outside webapp.core.transaction.perform(); "
        "routes hand their state change to perform() and never commit themselves"
    )
