"""Properties of money that must hold for every input (Hypothesis): parsing and formatting, sums
against BIGINT, invoice totals, credit balances. Shared strategies: tests/strategies.py."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import NON_ASCII_DIGITS, amount_text, cents, line_items
from webapp.core.money import (
    MAX_AMOUNT,
    MAX_INVOICE_TOTAL,
    AmountOutOfRange,
    check_invoice_total,
    checked_sum,
    ensure_bigint,
    format_amount,
    parse_amount,
)
from webapp.core.parsing import BIGINT_MAX

PERIOD = (date(2026, 10, 1), date(2026, 10, 31))
PURE = settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
DB_EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PURE
@given(cents(-MAX_AMOUNT, MAX_AMOUNT))
def test_what_is_typed_parses_back_to_the_same_cents(value):
    assert parse_amount(amount_text(value)) == value
    assert parse_amount(f"  {amount_text(value)} ") == value


@PURE
@given(cents(-MAX_AMOUNT, MAX_AMOUNT), st.sampled_from(["USD", "ZWG", "JPY"]))
def test_formatting_round_trips_through_parsing(value, currency):
    shown = format_amount(value, currency)
    assert shown.startswith(("-" if value < 0 else "") + currency + " ")
    assert parse_amount(shown.replace(currency + " ", "").replace(",", "")) == value


@PURE
@given(st.text(max_size=20), NON_ASCII_DIGITS, st.text(max_size=5))
def test_any_non_ascii_digit_is_refused(before, digit, after):
    with pytest.raises(ValueError):
        parse_amount(before + digit + after)


@PURE
@given(st.integers(MAX_AMOUNT + 1, 10**14 - 1))
def test_an_amount_above_the_field_maximum_is_refused(value):
    with pytest.raises(ValueError, match="at most"):
        parse_amount(amount_text(value))
    assert parse_amount(amount_text(value), maximum=value) == value


@PURE
@given(st.lists(st.integers(-(2**70), 2**70), max_size=30))
def test_a_checked_sum_is_the_sum_or_a_refusal_never_a_value_past_bigint(values):
    partials = [sum(values[: i + 1]) for i in range(len(values))]
    if all(-BIGINT_MAX <= p <= BIGINT_MAX for p in partials):
        assert checked_sum(values) == sum(values)
    else:
        with pytest.raises(AmountOutOfRange):
            checked_sum(values)


@PURE
@given(st.integers(-(2**70), 2**70))
def test_bigint_and_invoice_ceilings(value):
    if -(2**63) <= value <= BIGINT_MAX:
        assert ensure_bigint(value) == value
    else:
        with pytest.raises(AmountOutOfRange):
            ensure_bigint(value)
    if abs(value) <= MAX_INVOICE_TOTAL:
        assert check_invoice_total(value) == value
    else:
        with pytest.raises(AmountOutOfRange):
            check_invoice_total(value)


def test_invoice_totals_are_the_sum_of_their_lines_plus_tax_rounded_half_up(ctx):
    from tests.billing.helpers import org_with_owner
    from webapp.billing import services as billing
    from webapp.extensions import db

    org, _ = org_with_owner()
    account = billing.billing_account_for(org)
    db.session.commit()

    @DB_EXAMPLES
    @given(line_items())
    def totals(lines):
        invoice = billing.create_draft_invoice(account, period_start=PERIOD[0], period_end=PERIOD[1])
        for n, (quantity, price) in enumerate(lines):
            billing.add_line_item(invoice, f"Line {n}", quantity, price)
        subtotal = sum(q * p for q, p in lines)
        assert invoice.subtotal == subtotal
        exact_tax = subtotal * invoice.tax_rate_bps / 10_000
        assert abs(invoice.tax - exact_tax) <= 0.5 and invoice.tax >= 0
        assert invoice.total == invoice.subtotal + invoice.tax == invoice.amount_due
        db.session.rollback()  # services flush; nothing of this example is kept

    totals()


def test_credit_balances_add_up_and_never_go_below_zero(ctx):
    """Random grants and uses of credit: the balance is always grants minus what was applied, and an
    invoice never takes more than it owes or than the balance holds."""
    from tests.billing.helpers import org_with_owner
    from webapp.billing import services as billing
    from webapp.billing.models import BillingAccount
    from webapp.extensions import db

    org, owner = org_with_owner()
    account_id = billing.billing_account_for(org).id
    db.session.commit()
    operations = st.lists(
        st.one_of(st.tuples(st.just("grant"), cents(1, 50_000)), st.tuples(st.just("invoice"), cents(1, 80_000))),
        min_size=1,
        max_size=8,
    )

    @DB_EXAMPLES
    @given(operations)
    def ledger(steps):
        account = db.session.get(BillingAccount, account_id)
        granted = applied = 0
        for kind, amount in steps:
            if kind == "grant":
                billing.issue_credit(account, owner, amount, "property test")
                granted += amount
            else:
                invoice = _invoice(billing, account, amount)
                due_before = invoice.amount_due
                if account.credit_balance > 0:
                    billing.pay_from_credit(invoice, owner)
                    taken = due_before - invoice.amount_due
                    assert 0 < taken <= min(due_before, granted - applied)
                    applied += taken
            db.session.refresh(account)
            assert account.credit_balance == granted - applied >= 0
        db.session.rollback()

    ledger()


def _invoice(billing, account, amount):
    invoice = billing.create_draft_invoice(account, period_start=PERIOD[0], period_end=PERIOD[1])
    billing.add_line_item(invoice, "Property line", 1, amount)
    billing.finalize_invoice(invoice, None, send_email=False)
    return invoice
