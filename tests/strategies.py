"""Hypothesis strategies for money, shared by the property tests of every domain.

Ledgers (billing credits here; the AI credit ledger's grant, purchase, reserve, settle, refund and
expiry in tests/ai) draw their amounts from ``cents`` and their operation sequences with
``hypothesis.strategies.lists(one_of(...))`` over these, so every ledger is tried with the same
edge amounts: 0, 1 cent, the per-field maximum, and everything between.
"""

from __future__ import annotations

from hypothesis import strategies as st

from webapp.core.money import MAX_AMOUNT

# Unicode decimal digits that are not ASCII: full-width, Arabic-Indic, Devanagari, Bengali, Thai...
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not "0" <= c <= "9")


def cents(minimum: int = 0, maximum: int = MAX_AMOUNT) -> st.SearchStrategy[int]:
    return st.integers(min_value=minimum, max_value=maximum)


def amount_text(value: int) -> str:
    """How a person types ``value`` cents: ``-12.50``, ``3``, ``0.5``."""
    sign, whole, frac = ("-" if value < 0 else ""), abs(value) // 100, abs(value) % 100
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:02d}"


def line_items(max_lines: int = 8) -> st.SearchStrategy[list[tuple[int, int]]]:
    """(quantity, unit price in cents) pairs as staff enter them on an invoice."""
    return st.lists(st.tuples(st.integers(1, 1_000), cents(0, 10_000_000)), min_size=1, max_size=max_lines)
