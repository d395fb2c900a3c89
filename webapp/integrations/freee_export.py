"""Export to freee: the organization (Tessera's billing customer) as a partner, then its finalized
invoices as freee invoices (invoice API) or as income deals, as the connection is configured.

Idempotent by stored freee id: every created record is written to ``freee_exports`` (unique per freee
company, entity type and local id) and committed right after freee answers, so a re-run skips it. An
invoice exported in either form is skipped whatever the current setting, so switching the setting never
books the same invoice twice. A record freee refuses is listed in the job's errors; the rest go on.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.core.models import get_existing
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations.freee_sync import EXPORTERS, EntityFailed, Stats
from webapp.integrations.models import Connection, FreeeDeal, FreeeExport, FreeeInvoice, FreeePartner
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.freee import FreeeAccessRestricted

EXPORT_AS = ("invoices", "deals")
DEFAULT_EXPORT_AS = "invoices"
SALES_ACCOUNT_ITEM_ID = 101  # 売上高 in the sandbox's chart of accounts; configurable per connection
TAX_CODE_TAXABLE, TAX_CODE_EXEMPT = 129, 23  # 課税売上10% / 非課税売上


def export_as(connection: Connection) -> str:
    value = (connection.details or {}).get("export_as")
    return value if value in EXPORT_AS else DEFAULT_EXPORT_AS


def whole_units(cents: int) -> int:
    """freee books whole currency units (yen); Tessera keeps minor units. Round half up."""
    cents = int(cents or 0)
    sign = -1 if cents < 0 else 1
    return sign * ((abs(cents) + 50) // 100)


def _mapping(job, entity_types: tuple[str, ...], local_id: int) -> FreeeExport | None:
    return db.session.scalar(
        select(FreeeExport).where(
            FreeeExport.company_id == job.freee_company_id,
            FreeeExport.entity_type.in_(entity_types),
            FreeeExport.local_id == local_id,
        )
    )


def _remember(job, entity_type: str, local_id: int, freee_id: int) -> None:
    db.session.add(
        FreeeExport(
            organization_id=job.organization_id,
            connection_id=job.connection_id,
            company_id=job.freee_company_id,
            entity_type=entity_type,
            local_id=local_id,
            freee_id=int(freee_id),
        )
    )


def _call(fn, *args):
    """One provider call with nothing pending in our session: commit first, so a write at the provider
    (the sandbox shares SQLite in development) and the token refresh never wait on our transaction."""
    import time

    commit_progress("no transaction is held across the slow freee calls")
    started = time.perf_counter()
    try:
        return fn(*args)
    finally:
        Stats.provider_seconds += time.perf_counter() - started


def _partner_code(org) -> str:
    return f"TESSERA-ORG-{org.id}"


def ensure_partner(job, api) -> int | None:
    """The freee partner id of the job's organization, creating it once. None when it failed (reported)."""
    from webapp.orgs.models import Organization

    existing = _mapping(job, ("partner",), job.organization_id)
    if existing is not None:
        return existing.freee_id
    org = get_existing(Organization, job.organization_id)
    code, name, email, country = _partner_code(org), org.name, org.email, org.country
    try:
        partner = _call(api.create_partner, name, code, email, country)
    except ProviderError as error:
        if error.status_code == 400 and "already used" in str(error):
            # Created before but the answer was lost: freee refuses the duplicate code; find it.
            partner = _call(api.find_partner_by_code, code) or {}
        else:
            job.add_error(f"partner {name}: {error}", entity="partners", local_id=job.organization_id)
            job.bump("partners_failed")
            commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
            return None
    if not partner.get("id"):
        job.add_error(f"partner {name}: freee answered without an id", entity="partners", local_id=job.organization_id)
        job.bump("partners_failed")
        commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
        return None
    _remember(job, "partner", job.organization_id, partner["id"])
    if not db.session.scalar(
        select(FreeePartner.id).where(
            FreeePartner.connection_id == job.connection_id, FreeePartner.freee_id == partner["id"]
        )
    ):
        db.session.add(
            FreeePartner(
                organization_id=job.organization_id,
                connection_id=job.connection_id,
                freee_id=int(partner["id"]),
                name=name[:255],
                code=code,
                email=email,
                source_organization_id=job.organization_id,
            )
        )
    job.bump("partners_exported")
    commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
    return int(partner["id"])


def export_partners(job, api, since, share, page_size) -> None:
    if _mapping(job, ("partner",), job.organization_id) is not None:
        job.bump("partners_skipped")
        commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
        return
    ensure_partner(job, api)


def _finalized_invoices(job) -> list:
    from webapp.billing.models import DRAFT, VOID, Invoice

    stmt = select(Invoice).where(
        Invoice.organization_id == job.organization_id,
        Invoice.status.not_in((DRAFT, VOID)),
        Invoice.number.is_not(None),
    )
    if not job.full_sync and job.since_date:
        from datetime import UTC, datetime, time

        stmt = stmt.where(Invoice.issued_at >= datetime.combine(job.since_date, time(0), tzinfo=UTC))
    return list(db.session.scalars(stmt.order_by(Invoice.id)))


def _day(value) -> str | None:
    return value.date().isoformat() if value is not None else None


def invoice_payload(invoice, partner_id: int) -> dict:
    rate = (invoice.tax_rate_bps or 0) // 100
    billing_date = _day(invoice.issued_at) or _day(invoice.finalized_at) or invoice.period_end.isoformat()
    return {
        "billing_date": billing_date,
        "payment_date": _day(invoice.due_at) or billing_date,
        "partner_id": partner_id,
        "invoice_number": invoice.number,
        "subject": f"Tessera {invoice.number} ({invoice.period_start.isoformat()} to {invoice.period_end.isoformat()})",
        "tax_entry_method": "out",
        "currency": invoice.currency,
        "lines": [
            {
                "description": line.description[:250],
                "quantity": line.quantity,
                "unit_price": whole_units(line.unit_price),
                "tax_rate": rate,
            }
            for line in invoice.lines
        ],
        "total_tax_amount": whole_units(invoice.tax),
    }


def deal_payload(invoice, partner_id: int, account_item_id: int) -> dict:
    issue_date = _day(invoice.issued_at) or _day(invoice.finalized_at) or invoice.period_end.isoformat()
    return {
        "issue_date": issue_date,
        "due_date": _day(invoice.due_at),
        "type": "income",
        "partner_id": partner_id,
        "ref_number": invoice.number,
        "details": [
            {
                "tax_code": TAX_CODE_TAXABLE if invoice.tax else TAX_CODE_EXEMPT,
                "account_item_id": account_item_id,
                "amount": whole_units(invoice.total),
                "vat": whole_units(invoice.tax),
                "description": f"Tessera {invoice.number} ({invoice.currency})",
            }
        ],
    }


def export_invoices(job, api, since, share, page_size) -> None:
    from webapp.integrations.freee_sync import _progress

    connection = get_existing(Connection, job.connection_id)
    mode = export_as(connection)
    account_item_id = int((connection.details or {}).get("deal_account_item_id") or SALES_ACCOUNT_ITEM_ID)
    invoices = _finalized_invoices(job)
    job.bump("invoices_exported", 0)
    if not invoices:
        commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
        return
    partner_id = ensure_partner(job, api)
    if partner_id is None:
        job.bump("invoices_failed", len(invoices))
        job.add_error("invoices: not exported because the partner could not be created", entity="invoices")
        commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
        return
    for index, invoice in enumerate(invoices):
        if _mapping(job, ("invoice", "deal"), invoice.id) is not None:
            job.bump("invoices_skipped")
        else:
            number, invoice_id = invoice.number, invoice.id
            try:
                if mode == "deals":
                    created = _call(api.create_deal, deal_payload(invoice, partner_id, account_item_id))
                else:
                    created = _call(api.create_invoice, invoice_payload(invoice, partner_id))
                if not created.get("id"):
                    raise ProviderError("freee answered without an id", kind="client")
            except FreeeAccessRestricted as error:
                commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")
                raise EntityFailed(str(error)) from None  # every further call would be refused too
            except ProviderError as error:
                job.add_error(f"invoice {number}: {error}", entity="invoices", local_id=invoice_id)
                job.bump("invoices_failed")
            else:
                _remember(job, mode[:-1], invoice_id, created["id"])
                _local_copy(job, mode, invoice, created, partner_id)
                job.bump("invoices_exported")
        _progress(job, share, (index + 1) / len(invoices))
        commit_progress("what freee has accepted is saved at once, so a retried export never sends it twice")


def _local_copy(job, mode: str, invoice, created: dict, partner_id: int) -> None:
    model = FreeeDeal if mode == "deals" else FreeeInvoice
    if db.session.scalar(
        select(model.id).where(model.connection_id == job.connection_id, model.freee_id == int(created["id"]))
    ):
        return
    common = dict(
        organization_id=job.organization_id,
        connection_id=job.connection_id,
        freee_id=int(created["id"]),
        partner_freee_id=partner_id,
        currency=invoice.currency,
    )
    if mode == "deals":
        db.session.add(
            FreeeDeal(
                **common,
                issue_date=created.get("issue_date"),
                kind="income",
                amount=int(created.get("amount") or whole_units(invoice.total)),
                ref_number=invoice.number,
            )
        )
    else:
        db.session.add(
            FreeeInvoice(
                **common,
                invoice_number=invoice.number,
                billing_date=created.get("billing_date"),
                total_amount=int(created.get("total_amount") or whole_units(invoice.total)),
                status=created.get("payment_status"),
                local_invoice_id=invoice.id,
            )
        )


EXPORTERS.update({"partners": export_partners, "invoices": export_invoices})
