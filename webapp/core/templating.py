"""Template filters and the context every page gets (current organization, switcher, permissions)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import Flask, g, has_request_context, request
from flask_babel import format_currency, format_decimal
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.core import display
from webapp.core.access import can, roles_allowed, who_can_grant
from webapp.core.i18n import is_english, language
from webapp.core.money import format_amount


def viewer_zone() -> str:
    """The viewer's organization's time zone: the page's organization, else the one they last opened
    (pages outside an organization: notifications, account), else their first; UTC for staff-only or
    signed-out views."""
    org = g.get("org")
    if org is not None:
        return org.timezone or "UTC"
    if not has_request_context() or not current_user.is_authenticated or request.path.startswith("/admin"):
        return "UTC"  # the staff console reads in UTC, every organization's times side by side
    cached = g.get("viewer_zone")
    if cached is None:
        from flask import session

        from webapp.orgs.services import memberships_of

        orgs = [m.organization for m in memberships_of(current_user.id)]
        last = session.get("last_org")
        chosen = next((o for o in orgs if o.slug == last), orgs[0] if orgs else None)
        cached = g.viewer_zone = (chosen.timezone if chosen is not None else None) or "UTC"
    return cached


def zone_name(value: datetime, zone: str) -> str:
    """ "CAT", "JST", "UTC"; the zone's key where it has no letters for a name ("America/Sao_Paulo")."""
    abbreviation = value.astimezone(ZoneInfo(zone)).tzname() or ""
    return abbreviation if abbreviation.isalpha() else zone


# The Babel (CLDR) pattern a Japanese page shows for each format the templates ask for; a format not
# listed keeps its strftime form (numbers only read the same in both languages).
JA_PATTERNS = {
    "%Y-%m-%d %H:%M": "yyyy/MM/dd HH:mm",
    "%Y-%m-%d": "yyyy/MM/dd",
    "%Y-%m-%d %H:%M:%S": "yyyy/MM/dd HH:mm:ss",
    "%A %-d %B %Y, %H:%M": "yyyy年M月d日(EEEE) HH:mm",
    "%a %-d %b, %H:%M": "M月d日(E) HH:mm",
    "%d %b %Y": "yyyy年M月d日",
    "%-d %b %Y": "yyyy年M月d日",
    "%B %Y": "yyyy年M月",
    "%b %Y": "yyyy年M月",
    "%b": "M月",
    "%d %b": "M月d日",
    "%-d %b": "M月d日",
}


def local_time(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M", zone: str | None = None) -> str:
    """Shown in the viewer's organization's time zone (see ``viewer_zone``), in the reader's language.
    A calendar day (a ``date``, such as a sync's "since" day) has no zone to convert: it is only written."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        if not is_english() and fmt in JA_PATTERNS:
            return babel_dates.format_date(value, JA_PATTERNS[fmt], locale=language())
        return value.strftime(fmt)
    tz = zone or (viewer_zone() if has_request_context() else "UTC")
    local = value.astimezone(ZoneInfo(tz))
    if not is_english() and fmt in JA_PATTERNS:
        return babel_dates.format_datetime(local, JA_PATTERNS[fmt], locale=language())
    return local.strftime(fmt)


def money(cents: int | None, currency: str = "USD") -> str:
    """An amount in minor units as the reader's locale writes it: "USD 1,234.50" in English (the
    format every page and e-mail has always shown), "$1,234.50" / "ZWG 1,234.50" in Japanese."""
    if cents is None or is_english():
        return format_amount(cents, currency)
    code = currency or "USD"
    amount = Decimal(int(cents)) / 100
    symbol = babel_numbers.get_currency_symbol(code, locale=language())
    if symbol == code:  # no symbol of its own ("ZWG"): the code, a space, the figure
        return f"{'-' if cents < 0 else ''}{code} {format_decimal(abs(amount), '#,##0.00')}"
    return format_currency(amount, code, currency_digits=False, format="¤#,##0.00")


def local_time_named(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M", zone: str | None = None) -> str:
    """Like ``dt``, with the zone named: "2026-12-03 11:50 CAT"."""
    if value is None:
        return ""
    tz = zone or (viewer_zone() if has_request_context() else "UTC")
    return f"{local_time(value, fmt, tz)} {zone_name(value, tz)}"


def init_app(app: Flask) -> None:
    from webapp.core.links import LINKED_ENDPOINTS
    from webapp.core.registry import add_once

    add_once(LINKED_ENDPOINTS, display.linked_pages)  # the audit log's entity links
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = local_time
    app.jinja_env.filters["date"] = lambda v: local_time(v, "%Y-%m-%d")
    app.jinja_env.filters["dtz"] = local_time_named
    for name in ("label", "sentence", "count", "plural", "size", "mb_size", "join_words", "article", "role_label"):
        app.jinja_env.filters[name] = getattr(display, name)
    # A text computed elsewhere (a flash message, a stored label) in the reader's language when the
    # catalogue has it. Not ``_()``: that one formats its argument with ``%`` and marks it safe, which a
    # text that may hold a "%" or a customer's words must not be.
    app.jinja_env.globals["translated"] = display.translated
    app.jinja_env.globals["provider_name"] = display.provider_name
    app.jinja_env.globals["result_fields"] = display.result_fields
    app.jinja_env.globals["payer_message"] = display.payer_message
    app.jinja_env.globals["entity_url"] = display.entity_url
    app.jinja_env.globals["audit_details"] = display.audit_details
    app.jinja_env.globals["roles_allowed"] = roles_allowed
    app.jinja_env.globals["who_can_grant"] = who_can_grant
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["csrf_token"] = generate_csrf

    @app.context_processor
    def shell_context():
        if not has_request_context():
            return {}
        org = g.get("org")
        memberships = []
        if current_user.is_authenticated:
            from webapp.orgs.services import memberships_of

            memberships = memberships_of(current_user.id)
        return {"current_org": org, "current_membership": g.get("membership"), "my_memberships": memberships}
