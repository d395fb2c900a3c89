"""Numbers and dates parsed from text, once, with the bounds the database can hold.

Python's ``int()`` accepts far more than a person means by a number: full-width and Arabic-Indic
digits, ``' 1_2 '``; ``str.isdigit()`` also says yes to a superscript two, which ``int()`` then
refuses. Ids are BIGINT on PostgreSQL, so ``99999999999999999999`` breaks the query. Every
number a route reads from a query string, a form or a cursor goes through ``parse_int`` (or
``int_arg``), every date through ``parse_date`` / ``parse_month``: ASCII digits only, bounded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

BIGINT_MAX = 2**63 - 1
# Dates outside this window are typing mistakes or probes (year 0, year 9999 + 1 day overflows).
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)

_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# RFC 3339's date-time (a zone required), years 1900 to 2199, a leap second only at 23:59:60 UTC: what
# ``parse_instant`` takes, and what the API's document states (its schema uses this pattern).
INSTANT_PATTERN = (
    "^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]"
    "(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    "|23:59:60(\\.[0-9]+)?([Zz]|[+-]00:00))$"
)
_INSTANT = re.compile(INSTANT_PATTERN)


def parse_int(text: str | None, *, minimum: int = 0, maximum: int = BIGINT_MAX, signed: bool = False) -> int:
    """``text`` as an int: ASCII digits only (a leading ``-`` when ``signed``), within the bounds.
    Surrounding spaces are ignored. Raises ValueError with a message a person can act on."""
    raw = (text or "").strip()
    if not (_SIGNED if signed else _DIGITS).fullmatch(raw):
        raise ValueError("Enter a whole number using the digits 0-9.")
    # Past 20 digits it is out of any bound we use; int() of a 100,000-digit string is not free.
    value = int(raw) if len(raw) <= 20 else None
    if value is None or not minimum <= value <= maximum:
        raise ValueError(f"Enter a whole number from {minimum:,} to {maximum:,}.")
    return value


def int_or_none(text: str | None, **bounds) -> int | None:
    """``parse_int`` for optional ids (an empty value or nonsense reads as no value)."""
    try:
        return parse_int(text, **bounds)
    except ValueError:
        return None


def int_arg(name: str, default: int | None = None, **bounds) -> int | None:
    """``request.args[name]`` through ``parse_int``; missing, empty or invalid → ``default``."""
    from flask import request

    value = int_or_none(request.args.get(name), **bounds)
    return default if value is None else value


def parse_date(text: str | None, *, earliest: date = MIN_DATE, latest: date = MAX_DATE) -> date:
    """``YYYY-MM-DD`` in ASCII digits, a real calendar date, within ``earliest``..``latest``."""
    match = _DATE.fullmatch((text or "").strip())
    if not match:
        raise ValueError("Enter a date like 2026-11-23.")
    year, month, day = (int(part) for part in match.groups())
    out_of_range = ValueError(f"Enter a date from {earliest.isoformat()} to {latest.isoformat()}.")
    if not earliest.year <= year <= latest.year:
        raise out_of_range
    try:
        value = date(year, month, day)
    except ValueError:
        raise ValueError("That day does not exist; enter a date like 2026-11-23.") from None
    if not earliest <= value <= latest:
        raise out_of_range
    return value


def parse_month(text: str | None, *, earliest: date = MIN_DATE, latest: date = MAX_DATE) -> date:
    """``YYYY-MM`` → the first day of that month, within the same window as ``parse_date``."""
    match = _MONTH.fullmatch((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError("Enter a month like 2026-11.")
    value = date(int(match.group(1)), int(match.group(2)), 1)
    if not earliest.replace(day=1) <= value <= latest:
        raise ValueError(f"Enter a month from {earliest:%Y-%m} to {latest:%Y-%m}.")
    return value


def parse_instant(text: object) -> datetime | None:
    """An RFC 3339 date-time (``INSTANT_PATTERN``: *with* a time zone) → the moment in UTC, else None.

    RFC 3339 allows a lower-case ``t`` and ``z`` and a leap second, which Python's parser takes
    neither of; the years are bounded (``0001-01-01T00:00+00:01`` would overflow on the way to UTC),
    and Python's wider ISO 8601 forms (no seconds, week dates) are not RFC 3339, so not taken."""
    if not isinstance(text, str) or len(text) > 40 or not _INSTANT.fullmatch(text):
        return None
    try:  # the pattern leaves only t/T and z/Z as letters, and :60 only as a leap second
        moment = datetime.fromisoformat(text.replace("t", "T").replace("z", "Z").replace(":60", ":59"))
    except ValueError:
        return None  # a day the month does not have
    return moment.astimezone(UTC)
