"""How values read to people: one module, registered as Jinja filters by ``webapp.core.templating``.

- ``label``: a stored enum as words ("PAYNOW_ECOCASH" → "Paynow EcoCash", "POS_TERMINAL" →
  "POS terminal", "ai_credits" → "AI credits", "storage_mb" → "Storage (MB)"); free text only gets
  its first letter raised ("storage (MB)" → "Storage (MB)", never "Storage (mb)").
- ``plural``: a count with its noun ("1 run", "2 runs", "1,204 events").
- ``size``: bytes in binary units ("0 B", "1.5 KB", "200 GB"); ``mb_size`` for figures kept in MB.
- ``join_words``, ``article``: lists and roles in a sentence ("Owner, Admin and Billing", "an Admin").
- ``provider_sentence``: what a person reads when a provider call failed; the call log keeps the
  technical detail (exception class, status, body) for staff.

In Japanese (``webapp.core.i18n``) the same filters read in Japanese: ``label`` looks its English
words up in the catalogue (the status words are listed in ``webapp.core.terms``), ``plural`` and
``count`` use Babel's number format, ``join_words`` joins with "、". English output is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Words that keep their own spelling wherever they stand (brands, acronyms).
SPELLING = {
    "ai": "AI",
    "api": "API",
    "csv": "CSV",
    "ecocash": "EcoCash",
    "freee": "freee",
    "gb": "GB",
    "html": "HTML",
    "http": "HTTP",
    "id": "ID",
    "innbucks": "InnBucks",
    "instagram": "Instagram",
    "kb": "KB",
    "mastercard": "Mastercard",
    "mb": "MB",
    "oauth": "OAuth",
    "onemoney": "OneMoney",
    "paynow": "Paynow",
    "pdf": "PDF",
    "pos": "POS",
    "sms": "SMS",
    "stripe": "Stripe",
    "tiktok": "TikTok",
    "totp": "TOTP",
    "url": "URL",
    "usd": "USD",
    "vat": "VAT",
    "visa": "Visa",
    "youtube": "YouTube",
    "zig": "ZiG",
}
# A unit at the end of an enum is shown in brackets: "storage_mb" → "Storage (MB)".
UNITS = {"mb", "gb", "kb", "ms"}
_ENUM = re.compile(r"^[A-Za-z0-9]+(?:[_\-][A-Za-z0-9]+)*$")


def label(value) -> str:
    """A stored value (enum, code, key) as words a person reads (in the reader's language)."""
    return translated(_label(value))


def translated(text) -> str:
    """``text`` from the catalogue when the page is not in English and the catalogue knows it; the text
    itself otherwise (a customer's words, a number). Never formats with ``%`` nor marks anything safe."""
    from webapp.core.i18n import is_english

    if not text or is_english():
        return text
    from flask_babel import gettext

    return gettext(str(text))


def _label(value) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if not text:
        return ""
    looks_like_enum = _ENUM.match(text) and ("_" in text or "-" in text or text.isupper() or text.islower())
    # An enum someone already title-cased ("Pos Terminal", "Ai Credits"): words again, acronyms restored.
    title_cased = text.istitle() and " " in text and any(w.lower() in SPELLING for w in text.split())
    if title_cased and all(w.isalpha() for w in text.split()):
        looks_like_enum = True
    if not looks_like_enum:
        return text[0].upper() + text[1:]  # free text: only the first letter is raised
    words = [w for w in re.split(r"[_\-\s]+", text.lower()) if w]
    unit = words.pop() if len(words) > 1 and words[-1] in UNITS else None
    shown = []
    for i, word in enumerate(words):
        if word in SPELLING:
            shown.append(SPELLING[word])
        else:
            shown.append(word.capitalize() if i == 0 else word)
    result = " ".join(shown)
    if unit:
        result += f" ({SPELLING.get(unit, unit)})"
    return result


def sentence(value) -> str:
    """Raise the first letter only: "storage (MB)" → "Storage (MB)" (``capitalize`` lowers the rest)."""
    text = "" if value is None else str(value)
    return text[:1].upper() + text[1:]


def count(value) -> str:
    """A number with thousands separators ("12,285", "1,234.5"), in the reader's locale."""
    from webapp.core.i18n import is_english

    if is_english():
        return f"{value or 0:,}"
    from flask_babel import format_decimal

    return format_decimal(value or 0)


IRREGULAR = {"entry": "entries", "copy": "copies", "person": "people", "reply": "replies", "category": "categories"}


def plural(n, singular: str, plural_form: str | None = None) -> str:
    """ "1 run", "2 runs", "0 runs", "1,204 entries"."""
    n = int(n or 0)
    from webapp.core.i18n import is_english

    if not is_english():
        # Japanese has no plural: the noun from the catalogue, then the number and its counter.
        from flask_babel import gettext

        return gettext("%(noun)s: %(num)s", noun=gettext(singular), num=count(n))
    if n == 1:
        return f"1 {singular}"
    many = plural_form or IRREGULAR.get(singular) or (singular + ("es" if singular.endswith(("s", "x", "ch")) else "s"))
    return f"{n:,} {many}"


_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB")


def size(n_bytes) -> str:
    """Bytes in binary units: "0 B", "512 B", "1.5 KB", "20 MB", "200 GB"."""
    value = float(n_bytes or 0)
    unit = 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value):,} B"
    if value >= 10 or value == int(value):
        return f"{round(value):,} {_SIZE_UNITS[unit]}"
    return f"{value:.1f} {_SIZE_UNITS[unit]}"


def mb_size(megabytes) -> str:
    """A figure kept in MB (plan limits) in the same units as ``size``: 204800 → "200 GB"."""
    return size(int(megabytes or 0) * 1024 * 1024)


def join_words(items: Iterable) -> str:
    """ "Owner", "Owner and Admin", "Owner, Admin and Billing"."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    from webapp.core.i18n import is_english

    if not is_english():
        return "、".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def article(word) -> str:
    """ "an Admin", "a Member"; the word alone in a language without articles (Japanese)."""
    from webapp.core.i18n import is_english

    text = str(word)
    if not is_english():
        return text
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


def role_label(role) -> str:
    return label(role)


_PROVIDER_NAMES = {
    "paynow": "Paynow",
    "stripe": "Stripe",
    "freee": "freee",
    "google": "Google Drive",
    "google_drive": "Google Drive",
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "smtp": "SMTP",
}


def provider_name(provider) -> str:
    return _PROVIDER_NAMES.get(str(provider).lower(), label(provider))


PROVIDER_FAILURES = ("timeout", "network", "rate_limited", "server", "refused")


def initials_of(text: str) -> str:
    """Up to two letters for an avatar without a picture: "Acme Farms" → "AF", "ann@x.org" → "A"."""
    words = [w for w in (text or "").replace("@", " ").replace(".", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[1][0] if len(words) > 1 and "@" not in (text or "") else "")
    return letters.upper()


def provider_sentence(provider, kind: str, *, payment: bool = False) -> str:
    """A failed provider call as a sentence the person can act on (no exception names, no status codes),
    in the reader's language."""
    from flask_babel import gettext

    name = provider_name(provider)
    if payment:
        sentences = {
            "timeout": gettext(
                "%(name)s did not answer in time; nothing was charged. Try again in a minute.", name=name
            ),
            "network": gettext("We could not reach %(name)s; nothing was charged. Try again in a minute.", name=name),
            "rate_limited": gettext(
                "%(name)s is busy right now; nothing was charged. Try again in a minute.", name=name
            ),
            "server": gettext(
                "%(name)s had a problem on its side; nothing was charged. Try again in a few minutes.", name=name
            ),
        }
        refused = gettext(
            "%(name)s did not accept the request; nothing was charged. "
            "Check the details, or choose another way to pay.",
            name=name,
        )
    else:
        sentences = {
            "timeout": gettext("%(name)s did not answer in time; nothing changed. Try again in a minute.", name=name),
            "network": gettext("We could not reach %(name)s; nothing changed. Try again in a minute.", name=name),
            "rate_limited": gettext("%(name)s is busy right now; nothing changed. Try again in a minute.", name=name),
            "server": gettext(
                "%(name)s had a problem on its side; nothing changed. Try again in a few minutes.", name=name
            ),
        }
        refused = gettext(
            "%(name)s did not accept the request; nothing changed. Check the details and try again.", name=name
        )
    return sentences.get(kind, refused)


def _provider_failure_kind(provider, sentence: str) -> str | None:
    """Which failure a stored (English) payment sentence tells, so the payer reads it in their language."""
    from flask import has_app_context
    from flask_babel import force_locale

    if not has_app_context():
        return None
    with force_locale("en"):
        for kind in PROVIDER_FAILURES:
            if provider_sentence(provider, kind, payment=True) == sentence:
                return kind
    return None


# The audit log: entities as links where a staff page shows them, amounts in cents as money.
ENTITY_PAGES = {
    "User": ("admin.users_detail", "user_id"),
    "Organization": ("admin.orgs_detail", "org_id"),
    "Invoice": ("billing_admin.invoice", "invoice_id"),
    "SupportTicket": ("support_admin.ticket", "ticket_id"),
    "CreditNote": ("billing_admin.credit_note_pdf_admin", "credit_note_id"),
    "EmailMessage": ("admin.emails_detail", "email_id"),
    "WorkflowTemplate": ("workflows_admin.template_form", "template_id"),
    "AiPromptTemplate": ("ai_admin.prompt", "prompt_id"),
}
# An entity whose page is its organization's (one account per organization).
ORG_PAGES = {
    "BillingAccount": "billing_admin.org_billing",
    "Subscription": "billing_admin.org_billing",
    "PaymentMethod": "billing_admin.org_billing",
    "Invitation": "admin.orgs_detail",
    "Connection": "admin.orgs_detail",
    "WebhookEndpoint": "admin.orgs_detail",
    "WorkflowRun": "admin.orgs_detail",
}
# Ids inside the details that name an entity with a page.
DETAIL_IDS = {"invoice_id": "Invoice", "user_id": "User", "ticket_id": "SupportTicket", "org_id": "Organization"}
# Money in cents, in the details of these actions' domains ("invoice.finalized" → "invoice").
MONEY_KEYS = {"amount", "total", "subtotal", "tax", "due", "amount_due", "expected", "reported", "price", "refunded"}
MONEY_DOMAINS = {
    "invoice",
    "payment",
    "credit",
    "credit_note",
    "refund",
    "subscription",
    "referral",
    "payout",
    "billing",
}


def linked_pages() -> list[str]:
    """The endpoints above, checked at start (``webapp.core.links``)."""
    return [endpoint for endpoint, _arg in ENTITY_PAGES.values()] + list(ORG_PAGES.values())


def entity_url(entity_type: str | None, entity_id, organization_id=None) -> str | None:
    """The staff page of an audited entity, or None where there is none (or the id is not a number)."""
    from flask import url_for

    if not entity_type or entity_id in (None, ""):
        return None
    try:
        if entity_type in ENTITY_PAGES:
            endpoint, arg = ENTITY_PAGES[entity_type]
            values: dict[str, Any] = {arg: int(entity_id)}
            return url_for(endpoint, **values)
        if entity_type in ORG_PAGES and organization_id:
            return url_for(ORG_PAGES[entity_type], org_id=int(organization_id))
    except (ValueError, TypeError):
        return None
    return None


def is_money(action: str | None, key: str, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    if key.endswith("_cents"):
        return True
    return key in MONEY_KEYS and (action or "").split(".", 1)[0] in MONEY_DOMAINS


def audit_details(entry) -> list[dict]:
    """Each detail of an audit entry as {key, text, url}: money as money, known ids as links."""
    from webapp.core.money import format_amount

    details = entry.details or {}
    currency = details.get("currency") or "USD"
    shown = []
    for key, value in details.items():
        if key == "currency" and any(is_money(entry.action, k, v) for k, v in details.items()):
            continue  # said with the amount
        text, url = value, None
        if is_money(entry.action, key, value):
            text = format_amount(value, currency)
        elif key in DETAIL_IDS and value not in (None, ""):
            url = entity_url(DETAIL_IDS[key], value)
        elif isinstance(value, (dict, list)):
            import json

            text = json.dumps(value, ensure_ascii=False)
        shown.append({"key": label(key), "text": "" if text is None else text, "url": url})
    return shown


def payer_message(payment) -> str:
    """Why a payment did not go through, as the payer reads it (the call log keeps the detail)."""
    from flask_babel import gettext

    name = provider_name(payment.provider or "")
    reason = (payment.error_message or "").strip()
    kind = _provider_failure_kind(payment.provider or "", reason) if reason else None
    if kind:
        return provider_sentence(payment.provider or "", kind, payment=True)
    if reason.endswith(".") and " " in reason:
        shown = translated(reason)
        return shown if "charged" in reason else gettext("%(reason)s Nothing was charged.", reason=shown)
    if reason.lower() == "cancelled" or payment.status == "CANCELLED":
        return gettext("The payment was cancelled at %(name)s; nothing was charged.", name=name)
    if reason.lower() == "amount mismatch":
        return gettext(
            "%(name)s reported an amount other than this payment's, so it was not applied; nothing was charged.",
            name=name,
        )
    if reason:
        return gettext(
            "%(name)s did not complete the payment (it said “%(reason)s”); nothing was charged.",
            name=name,
            reason=reason,
        )
    return gettext("The payment did not go through; nothing was charged.")


# What a step or a payload returned, as fields a person reads (the JSON stays behind a "raw" toggle).
RESULT_LABELS = {
    "status": "Status code",
    "status_code": "Status code",
    "body": "Response excerpt",
    "sent": "E-mails sent",
    "email_ids": "E-mail IDs",
    "notified": "People notified",
    "in_app": "In-app notifications",
    "ticket_id": "Support ticket",
    "post_ids": "Posts",
    "scheduled_for": "Scheduled for",
    "pending_line_id": "Pending invoice line",
    "holds": "Condition held",
    "duration_ms": "Duration",
}
RESULT_TEXT_LIMIT = 300


def _result_value(key: str, value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "—"
    if key.endswith("_ms") and isinstance(value, int | float):
        return f"{value:,.0f} ms"
    if isinstance(value, int | float):
        return f"{value:,}" if not key.endswith(("_id", "status", "status_code")) else str(value)
    if isinstance(value, list | tuple):
        shown = [_result_value(key, v) for v in value[:5]]
        more = len(value) - len(shown)
        return (", ".join(shown) or "none") + (f" and {more} more" if more > 0 else "")
    text = " ".join(str(value).split())
    return text if len(text) <= RESULT_TEXT_LIMIT else text[: RESULT_TEXT_LIMIT - 1] + "…"


def result_fields(output, prefix: str = "") -> list[tuple[str, str]]:
    """``{"status": 200, "body": "…"}`` → ``[("Status code", "200"), ("Response excerpt", "…")]``;
    nested objects read "Parent · child"; anything that is not an object is one "Result" field."""
    if not isinstance(output, dict):
        return [] if output in (None, "", [], {}) else [(prefix or "Result", _result_value("", output))]
    fields: list[tuple[str, str]] = []
    for key, value in output.items():
        name = RESULT_LABELS.get(str(key)) or label(str(key))
        name = f"{prefix} · {name}" if prefix else name
        if isinstance(value, dict) and value:
            fields.extend(result_fields(value, name))
        else:
            fields.append((name, _result_value(str(key), value)))
    return fields
