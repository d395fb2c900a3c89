"""Billing accounts, draft invoices, line items, finalization (gapless numbers), void, credit notes.

The immutability rule lives here too: a ``before_flush`` listener refuses any change to a finalized
invoice's frozen columns or line items (the migration adds the same rule as a PostgreSQL trigger).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Insert, delete, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session

from webapp.audit import record
from webapp.audit.services import batched as audit_batched
from webapp.billing.models import (
    ACCOUNT_ACTIVE,
    DRAFT,
    FROZEN_COLUMNS,
    ISSUED,
    PAID,
    TRANSITIONS,
    VOID,
    BillingAccount,
    Invoice,
    InvoiceLineItem,
    InvoiceNumberCounter,
    Service,
)
from webapp.core.bulk import assign_new_ids
from webapp.core.errors import Conflict, DomainError, IllegalTransition
from webapp.core.events import emit, emit_many
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.settings import define, get

define("billing.tax_rate_bps", int, 1500, "Tax rate in basis points (1500 = 15%)", minimum=0, maximum=10000)
define("billing.net_terms_days", int, 14, "Days between issue and due date", minimum=0, maximum=365)
define("billing.reminder_days_before_due", int, 3, "Days before the due date to send a reminder", minimum=0, maximum=60)
define("billing.payment_link_days", int, 45, "Days a payment link stays valid", minimum=1, maximum=365)
define("billing.default_currency", str, "USD", "Currency of new billing accounts")


class InvoiceFinalized(Conflict):
    code = "invoice_finalized"


@dataclass
class LineSpec:
    """One line a billing-run source contributes (amounts in cents)."""

    description: str
    quantity: int
    unit_price: int
    service_id: int | None = None
    metric: str | None = None
    subscription_id: int | None = None
    # What it bills (``services/periods.py``); None: derived from service / metric / subscription.
    billable: str | None = None
    # The dates it bills (both included); None: the invoice's period.
    period: tuple[date, date] | None = None


# --- accounts ----------------------------------------------------------------------------------


def billing_account_for(org) -> BillingAccount:
    """The organization's billing account, created on first use (one per organization)."""
    org_id = getattr(org, "id", org)
    account = db.session.scalar(select(BillingAccount).where(BillingAccount.organization_id == org_id))
    if account is None:
        account = BillingAccount(
            organization_id=org_id,
            status=ACCOUNT_ACTIVE,
            grace_period_days=14,
            credit_balance=0,
            currency=get("billing.default_currency") or "USD",
        )
        db.session.add(account)
        db.session.flush()
    return account


def create_account_for_new_org(org, owner) -> None:
    """ORGANIZATION_CREATED_HOOKS entry: every new organization gets its billing account."""
    billing_account_for(org)


def set_grace_period(account: BillingAccount, actor, days: int) -> BillingAccount:
    if not isinstance(days, int) or days < 0 or days > 365:
        raise DomainError("Grace period is 0 to 365 days.", field="grace_period_days")
    before = account.grace_period_days
    account.grace_period_days = days
    record(actor, "billing_account.grace_changed", account, {"from": before, "to": days})
    return account


# --- status machine ----------------------------------------------------------------------------


def transition(invoice: Invoice, to: str, actor=None, **metadata) -> None:
    """Move ``invoice`` along DESIGN §1's table; anything else is a clear error, audited when it moves."""
    current = invoice.status
    if to not in TRANSITIONS.get(current, ()):
        raise IllegalTransition(f"An invoice cannot go from {current.title()} to {to.title()}.")
    invoice.status = to
    if current != to:
        record(actor, f"invoice.{to.lower()}", invoice, {"from": current, "to": to, **metadata})


# --- drafts ------------------------------------------------------------------------------------


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise DomainError("Give the period as dates.", field="period_start")


def create_draft_invoice(
    account: BillingAccount,
    *,
    period_start,
    period_end,
    currency: str | None = None,
    subscription_id: int | None = None,
    actor=None,
    memo: str | None = None,
) -> Invoice:
    invoice = _new_draft(account, period_start, period_end, currency, subscription_id, actor, memo)
    db.session.add(invoice)
    db.session.flush()
    record(actor, "invoice.drafted", invoice, {"period": f"{invoice.period_start}..{invoice.period_end}"})
    return invoice


def _new_draft(account, period_start, period_end, currency=None, subscription_id=None, actor=None, memo=None):
    """The rules of a new draft (not yet in the session); refuses with DomainError."""
    start, end = _as_date(period_start), _as_date(period_end)
    if end < start:
        raise DomainError("The period ends before it starts.", field="period_end")
    currency = (currency or account.currency or "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise DomainError("Currency is a three-letter ISO code.", field="currency")
    invoice = Invoice(
        organization_id=account.organization_id,
        account_id=account.id,
        status=DRAFT,
        currency=currency,
        period_start=start,
        period_end=end,
        subscription_id=subscription_id,
        subtotal=0,
        tax=0,
        total=0,
        amount_paid=0,
        amount_due=0,
        memo=memo,
        created_by_id=getattr(actor, "id", None),
    )
    invoice.account = account
    return invoice


@dataclass
class DraftRequest:
    """One account's draft for ``create_drafts``: its period and the lines to add."""

    account: BillingAccount
    period_start: date
    period_end: date
    specs: list[LineSpec]
    run_period: str | None = None


@dataclass
class DraftOutcome:
    """What ``create_drafts`` made of a request: the draft (None when refused or no line was new),
    the refusal of the draft as a whole, and each refused line with its refusal (``AlreadyBilled``
    or another DomainError), in order."""

    invoice: Invoice | None = None
    refusal: DomainError | None = None
    # A pair's error is None only for a moment: a line refused after the flush gets its error below.
    refused_lines: list[tuple[LineSpec, DomainError | None]] = field(default_factory=list)


class ClaimRace(Exception):
    """A period claimed in ``create_drafts`` was claimed meanwhile by another transaction (the
    exclusion constraint refused the chunk); nothing of the chunk was kept."""


def create_drafts(requests, actor=None) -> list[DraftOutcome]:
    """The batch form of ``create_draft_invoice`` + ``add_line_item`` per line, by the same rules
    (``_new_draft``, ``_checked_line``, the live-period check of ``check_free``), with the same rows
    and audit entries, but one query for the services' owners, one for the live periods of every
    billable key, and one multi-row INSERT each for drafts, lines, periods and audit entries.

    Refusals stay per account and per line as in the one-by-one path: a draft with no new line is not
    made. All inserts run in one savepoint; if the exclusion constraint refuses it (a concurrent claim
    the check could not see), it is rolled back and ``ClaimRace`` raised: the caller redoes the chunk
    one account at a time, where the loser gets ``AlreadyBilled``."""
    from sqlalchemy.exc import IntegrityError

    from webapp.billing.models import BilledPeriod
    from webapp.billing.services import periods

    requests = list(requests)
    outcomes = [DraftOutcome() for _ in requests]
    service_ids = {spec.service_id for r in requests for spec in r.specs if spec.service_id is not None}
    owners = {}
    if service_ids:
        owners = dict(
            db.session.execute(select(Service.id, Service.organization_id).where(Service.id.in_(service_ids))).all()
        )
    planned = []
    for request, outcome in zip(requests, outcomes, strict=True):
        try:
            invoice = _new_draft(request.account, request.period_start, request.period_end, actor=actor)
        except DomainError as error:
            outcome.refusal = error
            continue
        invoice.run_period = request.run_period
        lines = []
        for spec in request.specs:
            try:
                line, claim = _checked_line(
                    invoice,
                    spec.description,
                    spec.quantity,
                    spec.unit_price,
                    spec.service_id,
                    owners.get(spec.service_id),
                    spec.metric,
                    spec.subscription_id,
                    spec.billable,
                    spec.period,
                )
            except DomainError as error:
                outcome.refused_lines.append((spec, error))
                continue
            lines.append((spec, line, claim))
        planned.append((outcome, invoice, lines))

    claims = [claim for _, _, lines in planned for _, _, claim in lines if claim is not None]
    live: dict[str, list] = {}
    if claims:
        found = periods.live_periods(
            {key for key, _, _ in claims}, min(c[1] for c in claims), max(c[2] for c in claims)
        )
        for billed in found:
            live.setdefault(billed.billable_key, []).append(billed)
    kept, late_refusals = [], []  # late: lost to a line of the same chunk, named once it has its number
    for outcome, invoice, lines in planned:
        new_lines = []
        for spec, line, claim in lines:
            period = None
            if claim is not None:
                key, start, end = claim
                winner = next((p for p in live.get(key, ()) if p.start_date <= end and p.end_date >= start), None)
                if winner is not None:
                    if winner.id is None:
                        late_refusals.append((outcome, len(outcome.refused_lines), spec, claim, winner))
                        outcome.refused_lines.append((spec, None))
                    else:
                        outcome.refused_lines.append((spec, periods.AlreadyBilled(key, start, end, winner)))
                    continue
                period = BilledPeriod(
                    organization_id=invoice.organization_id,
                    account_id=invoice.account_id,
                    billable_key=key,
                    start_date=start,
                    end_date=end,
                )
                period.invoice, period.line = invoice, line
                live.setdefault(key, []).append(period)
            new_lines.append((line, period))
        if new_lines:
            kept.append((outcome, invoice, new_lines))
    if not kept:
        return outcomes
    for _, invoice, new_lines in kept:
        invoice.lines.extend(line for line, _ in new_lines)  # still transient: no lazy load
        recompute_totals(invoice)
    try:
        with db.session.begin_nested():
            db.session.add_all([invoice for _, invoice, _ in kept])
            db.session.add_all([period for _, _, new_lines in kept for _, period in new_lines if period is not None])
            assign_new_ids()
            db.session.flush()  # drafts, then lines, then periods: one executemany each
            with audit_batched():
                for _, invoice, new_lines in kept:
                    dates = f"{invoice.period_start}..{invoice.period_end}"
                    record(actor, "invoice.drafted", invoice, {"period": dates})
                    for line, _ in new_lines:
                        record(
                            actor, "invoice.line_added", invoice, {"description": line.description, "total": line.total}
                        )
    except IntegrityError as error:
        if periods.EXCLUSION not in str(error.orig):
            raise
        raise ClaimRace() from None
    for outcome, invoice, _ in kept:
        outcome.invoice = invoice
    for outcome, index, spec, (key, start, end), winner in late_refusals:
        outcome.refused_lines[index] = (spec, periods.AlreadyBilled(key, start, end, winner))
    return outcomes


def add_line_item(
    invoice: Invoice,
    description: str,
    quantity: int,
    unit_price: int,
    *,
    service=None,
    metric: str | None = None,
    subscription_id: int | None = None,
    billable: str | None = None,
    period: tuple[date, date] | None = None,
    actor=None,
) -> InvoiceLineItem:
    """Add a line (amounts in cents) to a draft; a finalized invoice refuses.

    A line for a service, a subscription or a usage metric bills a period (``period``, else the
    invoice's) of that billable thing (``billable``, else ``service:<id>``, ``subscription:<id>`` or
    ``usage:<org>:<metric>``): it is claimed in ``services/periods.py`` with the line, and a period
    already billed by a live line raises ``AlreadyBilled`` naming that invoice."""
    from webapp.billing.services import periods

    if invoice.is_finalized or invoice.status != DRAFT:
        raise InvoiceFinalized("This invoice is finalized; its lines cannot change. Issue a credit instead.")
    service_id = getattr(service, "id", service)
    owner = None
    if service_id is not None:
        owner = db.session.scalar(select(Service.organization_id).where(Service.id == service_id))
    line, claim = _checked_line(
        invoice, description, quantity, unit_price, service_id, owner, metric, subscription_id, billable, period
    )
    if claim is not None:
        periods.insert_claimed_line(invoice, line, *claim)
    if line not in invoice.lines:  # a claimed line is flushed already; a lazy load may hold it
        invoice.lines.append(line)
    recompute_totals(invoice)
    db.session.flush()
    record(actor, "invoice.line_added", invoice, {"description": line.description, "total": line.total})
    return line


def _checked_line(
    invoice, description, quantity, unit_price, service_id, owner, metric, subscription_id, billable, period
):
    """The rules of a new line (``owner``: the organization of ``service_id``): the line, and the
    ``(key, start, end)`` it claims or None. Refuses with DomainError."""
    from webapp.billing.services import periods

    description = (description or "").strip()
    if not description:
        raise DomainError("Describe the line.", field="description")
    if not isinstance(quantity, int) or quantity < 1 or quantity > 1_000_000:
        raise DomainError("Quantity is a whole number from 1 to 1,000,000.", field="quantity")
    if not isinstance(unit_price, int) or abs(unit_price) > 10**11:
        raise DomainError("Enter a unit price in cents.", field="unit_price")
    if service_id is not None and owner != invoice.organization_id:
        raise DomainError("That service is not this organization's.", field="service")
    line = InvoiceLineItem(
        invoice_id=invoice.id,
        description=description[:300],
        quantity=quantity,
        unit_price=unit_price,
        total=quantity * unit_price,
        service_id=service_id,
        metric=metric,
        subscription_id=subscription_id,
    )
    key = billable or periods.key_for_line(
        invoice, service_id=service_id, subscription_id=subscription_id, metric=metric
    )
    if key is None or line.total < 0:  # a negative line (a discount) bills no period
        return line, None
    start, end = period or (invoice.period_start, invoice.period_end)
    start, end = _as_date(start), _as_date(end)
    if end < start:
        raise DomainError("The billed period ends before it starts.", field="period")
    return line, (key, start, end)


def remove_line_item(invoice: Invoice, line: InvoiceLineItem, actor=None) -> None:
    if invoice.is_finalized or invoice.status != DRAFT:
        raise InvoiceFinalized("This invoice is finalized; its lines cannot change.")
    from webapp.billing.models import BilledPeriod

    db.session.execute(delete(BilledPeriod).where(BilledPeriod.line_id == line.id))
    invoice.lines.remove(line)
    recompute_totals(invoice)
    db.session.flush()
    record(actor, "invoice.line_removed", invoice, {"description": line.description})


def tax_for(subtotal: int, rate_bps: int) -> int:
    """Tax in cents, rounded half up (never negative on a credit line total)."""
    if subtotal <= 0:
        return 0
    return (subtotal * rate_bps * 2 + 10000) // 20000


def recompute_totals(invoice: Invoice) -> None:
    if invoice.is_finalized:
        return
    rate = int(get("billing.tax_rate_bps"))
    invoice.subtotal = sum(line.total for line in invoice.lines)
    invoice.tax_rate_bps = rate
    invoice.tax = tax_for(invoice.subtotal, rate)
    invoice.total = invoice.subtotal + invoice.tax
    invoice.amount_due = max(0, invoice.total - invoice.amount_paid)


# --- numbering ---------------------------------------------------------------------------------


def allocate_numbers(year: int, count: int = 1, *, counter=InvoiceNumberCounter, prefix: str = "INV") -> list[str]:
    """``count`` consecutive numbers for ``year``. The UPDATE locks the year's counter row until the
    transaction ends, so concurrent finalizations queue up and a rollback leaves no gap. Credit notes
    use the same rule with their own counter table (``counter``, ``prefix="CN"``)."""
    if count < 1:
        return []
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Insert = pg_insert(counter).values(year=year, last_number=0).on_conflict_do_nothing()
    else:
        stmt = insert(counter).values(year=year, last_number=0).prefix_with("OR IGNORE")
    exists = db.session.scalar(select(counter.id).where(counter.year == year))
    if exists is None:
        db.session.execute(stmt)
    last = db.session.execute(
        update(counter)
        .where(counter.year == year)
        .values(last_number=counter.last_number + count)
        .returning(counter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return [f"{prefix}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


def new_payment_nonce() -> str:
    """128 random bits; the link adds a MAC only the server can make (webapp.secrets.links)."""
    return secrets.token_urlsafe(16)


def payment_link_expiry(now: datetime) -> datetime:
    return now + timedelta(days=int(get("billing.payment_link_days")))


def finalization_values(now: datetime) -> dict:
    return {
        "issued_at": now,
        "finalized_at": now,
        "due_at": now + timedelta(days=int(get("billing.net_terms_days"))),
        "payment_nonce": new_payment_nonce(),
        "payment_token_expires_at": payment_link_expiry(now),
    }


# --- finalize / void / credit note -------------------------------------------------------------


def finalize_invoice(invoice: Invoice, actor=None, *, send_email: bool = True, at: datetime | None = None) -> Invoice:
    """DRAFT → ISSUED: number, dates, payment link; from now on the invoice cannot change.
    ``at`` backdates the issue (demo data and imports only; the number still comes from the counter).
    The one-invoice case of ``finalize_invoices``: a refusal is raised."""
    [(invoice, error)] = finalize_invoices([invoice], actor, send_email=send_email, at=at)
    if error is not None:
        raise error
    return invoice


def finalize_invoices(
    invoices, actor=None, *, send_email: bool = True, at: datetime | None = None
) -> list[tuple[Invoice, DomainError | None]]:
    """Finalize each draft by the same rules (the staff button, renewals and the billing run all come
    here): each in its own savepoint, so one refusal (empty, negative total, not a draft) leaves the
    others finalized and that one untouched. Returns ``(invoice, refusal or None)`` in order; the
    payable ones are e-mailed by one job."""
    invoices = list(invoices)
    results: list[tuple[Invoice, DomainError | None] | None] = [None] * len(invoices)
    ready = []
    for index, invoice in enumerate(invoices):
        try:
            _check_finalizable(invoice)
        except DomainError as error:
            results[index] = (invoice, error)
            continue
        ready.append(index)
    if len(ready) > 1:
        try:
            with db.session.begin_nested():
                _finalize_many([invoices[i] for i in ready], actor, at)
        except DomainError:
            pass  # refused past the checks (an event subscriber): one by one below, each in its savepoint
        else:
            for i in ready:
                results[i] = (invoices[i], None)
            ready = []
    for i in ready:
        try:
            with db.session.begin_nested():
                _finalize_one(invoices[i], actor, at)
        except DomainError as error:
            results[i] = (invoices[i], error)
            continue
        results[i] = (invoices[i], None)
    payable = [r[0].id for r in results if r is not None and r[1] is None and r[0].status == ISSUED]
    if send_email and payable:
        from webapp.billing.jobs import send_invoice_email, send_invoice_emails

        if len(payable) == 1:
            send_invoice_email.delay(payable[0], "issued")
        else:
            send_invoice_emails.delay(payable, "issued")
    return [result for result in results if result is not None]  # each invoice got its result above


def _check_finalizable(invoice: Invoice) -> None:
    """The refusals of finalization: not a draft, no line, a negative total (never clamped)."""
    if invoice.status != DRAFT:
        raise IllegalTransition(f"Only a draft can be finalized; this invoice is {invoice.status.title()}.")
    if not invoice.lines:
        raise DomainError("Add at least one line before finalizing.", code="invoice_empty")
    recompute_totals(invoice)
    if invoice.total < 0:
        raise DomainError("An invoice total cannot be negative; issue a credit instead.", code="invoice_negative")


def _finalize_many(invoices: list[Invoice], actor, at: datetime | None) -> None:
    """``_finalize_one`` for drafts that passed ``_check_finalizable``: their numbers in one statement,
    one flush, then ``invoice.issued`` for all of them (``emit_many``: a subscriber with a batch form
    does one query for the lot) and, per invoice of zero total, PAID right after its own
    ``invoice.issued``, so every subscriber sees the events in the order of ``_finalize_one``."""
    now = at or utcnow()
    with audit_batched():
        for invoice, number in zip(invoices, allocate_numbers(now.year, len(invoices)), strict=True):
            _issue(invoice, actor, now, number)
    db.session.flush()
    chunk: list[Invoice] = []
    for index, invoice in enumerate(invoices):
        chunk.append(invoice)
        if invoice.total == 0 or index == len(invoices) - 1:  # each subscriber sees the order one by one would
            emit_many("invoice.issued", [_issued_data(issued) for issued in chunk], actor=actor)
            _mark_paid_if_nothing_due(invoice, actor, now)
            chunk = []
    assign_new_ids()
    db.session.flush()


def _issue(invoice: Invoice, actor, now: datetime, number: str) -> None:
    invoice.number = number
    for key, value in finalization_values(now).items():
        setattr(invoice, key, value)
    invoice.amount_due = invoice.total - invoice.amount_paid
    transition(invoice, ISSUED, actor, number=invoice.number, total=invoice.total)
    record(actor, "invoice.finalized", invoice, {"number": invoice.number, "total": invoice.total})


def _issued_data(invoice: Invoice) -> dict:
    return {"org": invoice.organization_id, "invoice_id": invoice.id, "account_id": invoice.account_id}


def _after_issue(invoice: Invoice, actor, now: datetime) -> None:
    emit("invoice.issued", actor=actor, **_issued_data(invoice))
    _mark_paid_if_nothing_due(invoice, actor, now)


def _mark_paid_if_nothing_due(invoice: Invoice, actor, now: datetime) -> None:
    if invoice.total == 0:
        invoice.paid_at = now
        transition(invoice, PAID, actor, reason="nothing due")
        emit("invoice.paid", org=invoice.organization_id, actor=actor, invoice_id=invoice.id)


def _finalize_one(invoice: Invoice, actor, at: datetime | None) -> None:
    _check_finalizable(invoice)
    now = at or utcnow()
    _issue(invoice, actor, now, allocate_numbers(now.year, 1)[0])
    db.session.flush()
    _after_issue(invoice, actor, now)
    db.session.flush()


def void_invoice(invoice: Invoice, actor, reason: str) -> Invoice:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the invoice is voided.", field="reason")
    if invoice.amount_paid > 0:
        raise IllegalTransition("Something was paid on this invoice; issue a credit note instead of voiding.")
    transition(invoice, VOID, actor, reason=reason)
    invoice.voided_at = utcnow()
    invoice.void_reason = reason[:1000]
    invoice.amount_due = 0 if invoice.is_finalized else invoice.amount_due
    db.session.flush()
    from webapp.billing.services.periods import release_invoice_periods

    release_invoice_periods(invoice, actor, reason="invoice voided")
    emit("invoice.voided", org=invoice.organization_id, actor=actor, invoice_id=invoice.id)
    return invoice


def refresh_payment_link(invoice: Invoice, actor=None) -> Invoice:
    """A new link (the old one stops working); only the token and its expiry move."""
    if not invoice.is_finalized or not invoice.is_open:
        raise DomainError("Only an open, finalized invoice has a payment link.")
    invoice.payment_nonce = new_payment_nonce()
    invoice.payment_token_expires_at = payment_link_expiry(utcnow())
    record(actor, "invoice.link_refreshed", invoice)
    return invoice


def ensure_payment_link(invoice: Invoice) -> None:
    if invoice.is_open and (invoice.payment_nonce is None or invoice.link_expired):
        refresh_payment_link(invoice)


def resend_invoice_email(invoice: Invoice, actor=None) -> str:
    """Queue the invoice's e-mail again (issued, overdue or receipt, as it stands); returns the kind."""
    from webapp.billing.jobs import send_invoice_email

    if not invoice.is_finalized:
        raise DomainError("A draft is not sent; finalize it first.")
    kind = "overdue" if invoice.status == "OVERDUE" else ("issued" if invoice.is_open else "receipt")
    ensure_payment_link(invoice)
    send_invoice_email.delay(invoice.id, kind)
    record(actor, "invoice.email_resent", invoice, {"kind": kind})
    return kind


def invoice_by_token(token: str) -> Invoice | None:
    from webapp.billing.models import PAYMENT_LINK
    from webapp.secrets.links import nonce_of

    if not token or len(token) > 128:
        return None
    nonce = nonce_of(PAYMENT_LINK, token)
    if nonce is None:
        return None
    return db.session.scalar(select(Invoice).where(Invoice.payment_nonce == nonce))


def open_amount(account: BillingAccount) -> int:
    stmt = select(func.coalesce(func.sum(Invoice.amount_due), 0)).where(
        Invoice.account_id == account.id, Invoice.status.in_(("ISSUED", "PARTIAL", "OVERDUE"))
    )
    return int(db.session.scalar(stmt) or 0)


# --- immutability in the ORM -------------------------------------------------------------------


def _was_finalized(invoice: Invoice) -> bool:
    state = inspect(invoice)
    if state.pending or state.transient:
        return False
    history = state.attrs.finalized_at.history
    if history.deleted:
        return history.deleted[0] is not None
    return invoice.finalized_at is not None and not history.added


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_finalized(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, Invoice) and _was_finalized(obj):
            state = inspect(obj)
            changed = [c for c in FROZEN_COLUMNS if state.attrs[c].history.has_changes()]
            if changed:
                raise InvoiceFinalized(
                    f"Invoice {obj.number} is finalized; {', '.join(changed)} cannot change. Issue a credit instead."
                )
    for obj in session.deleted:
        if isinstance(obj, Invoice) and _was_finalized(obj):
            raise InvoiceFinalized(f"Invoice {obj.number} is finalized and cannot be deleted.")
    for collection in (session.new, session.dirty, session.deleted):
        for obj in collection:
            if isinstance(obj, InvoiceLineItem):
                if collection is session.dirty and not session.is_modified(obj):
                    continue
                invoice = obj.invoice or (session.get(Invoice, obj.invoice_id) if obj.invoice_id else None)
                if invoice is not None and _was_finalized(invoice):
                    raise InvoiceFinalized(f"Invoice {invoice.number} is finalized; its lines cannot change.")
