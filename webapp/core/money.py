"""Money is integer minor units plus an ISO currency code; never a float."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"^\s*(-)?(\d{1,12})(?:\.(\d{1,2}))?\s*$")


def parse_amount(text: str) -> int:
    """'12.5' -> 1250 cents. Raises ValueError for anything that is not a plain decimal amount."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise ValueError("Enter an amount like 12.50")
    sign, whole, frac = match.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -cents if sign else cents


def format_amount(cents: int | None, currency: str = "USD") -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{currency} {whole:,}.{frac:02d}"


def prorate(amount: int, used_days: int, period_days: int) -> int:
    """Share of ``amount`` for ``used_days`` of ``period_days``, rounded half up, in cents."""
    if period_days <= 0:
        return 0
    return (amount * used_days * 2 + period_days) // (period_days * 2)
