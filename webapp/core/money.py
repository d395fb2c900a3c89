"""Money is integer minor units plus an ISO currency code; never a float.

Bounds, so that no amount a person types and no sum of them can overflow the BIGINT columns or
turn a slip of the finger into a real charge:

- ``MAX_AMOUNT``: one amount typed into a field (a price, a payment, a credit, a line's unit price).
- ``MAX_INVOICE_TOTAL``: one invoice's lines, subtotal and total.
- ``BIGINT_MAX``: what the columns hold; ``checked_sum``/``ensure_bigint`` before every write of a sum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from webapp.core.errors import DomainError
from webapp.core.parsing import BIGINT_MAX

MAX_AMOUNT = 100_000_000_00  # 100,000,000.00 in one field
MAX_INVOICE_TOTAL = 1_000_000_000_00  # 1,000,000,000.00 on one invoice

# ASCII only: Python's \d also takes full-width and Arabic-Indic digits.
_AMOUNT = re.compile(r"^\s*(-)?([0-9]{1,12})(?:\.([0-9]{1,2}))?\s*$", re.ASCII)


class AmountOutOfRange(DomainError):
    code = "amount_out_of_range"


def parse_amount(text: str, *, maximum: int = MAX_AMOUNT) -> int:
    """'12.5' -> 1250 cents. Raises ValueError for anything that is not a plain decimal amount in
    ASCII digits, or whose size is above ``maximum`` cents."""
    match = _AMOUNT.match(text or "")
    if not match:
        raise ValueError("Enter an amount like 12.50")
    sign, whole, frac = match.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    if cents > maximum:
        raise ValueError(f"Enter an amount of at most {format_amount(maximum, '').strip()}.")
    return -cents if sign else cents


def ensure_bigint(cents: int, what: str = "The amount") -> int:
    """``cents`` if a BIGINT column can hold it; otherwise a refusal naming ``what``."""
    if not -BIGINT_MAX - 1 <= cents <= BIGINT_MAX:
        raise AmountOutOfRange(f"{what} is too large to record.")
    return cents


def checked_sum(values: Iterable[int], *, limit: int = BIGINT_MAX, what: str = "The total") -> int:
    """The sum, refused as soon as a partial sum leaves ``-limit..limit`` (so it never reaches a column)."""
    total = 0
    for value in values:
        total += value
        if not -limit <= total <= limit:
            raise AmountOutOfRange(f"{what} would be larger than {format_amount(limit, '').strip()}.")
    return total


def check_invoice_total(cents: int, what: str = "The invoice total") -> int:
    """An invoice's subtotal or total within ``MAX_INVOICE_TOTAL`` (either sign)."""
    if abs(cents) > MAX_INVOICE_TOTAL:
        raise AmountOutOfRange(f"{what} would be above {format_amount(MAX_INVOICE_TOTAL, '').strip()}.")
    return cents


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
