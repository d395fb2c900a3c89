"""Forms of the payment pages (amounts typed as decimals, parsed into cents)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.billing.forms import money_field_check
from webapp.billing.payment_models import TO_CREDIT, TO_PROVIDER
from webapp.core.money import parse_amount


class CardPayForm(FlaskForm):
    """Pay by card on Stripe's hosted page (nothing to fill in here: the card is typed at Stripe)."""


class ButtonForm(FlaskForm):
    """A POST button (set default, remove, charge now): only the CSRF token."""


class RefundForm(FlaskForm):
    payment_id = SelectField("Payment", coerce=int)
    destination = SelectField(
        "Refund to",
        choices=[
            SelectChoice(TO_PROVIDER, "The payment's provider (card, Paynow, bank)"),
            SelectChoice(TO_CREDIT, "The account's credit balance"),
        ],
    )
    reason = TextAreaField("Reason", validators=[DataRequired("Say why the refund is made."), Length(max=1000)])
    reference = StringField("Refund reference (Paynow, bank transfer, cash)", validators=[Optional(), Length(max=120)])

    def line_amounts(self, invoice, formdata) -> dict[int, int] | None:
        """``line_<id>`` fields in cents (None when the form asks to refund everything left)."""
        if formdata.get("full"):
            return None
        amounts = {}
        for line in invoice.lines:
            raw = (formdata.get(f"line_{line.id}") or "").strip()
            if raw:
                amounts[line.id] = parse_amount(raw)
        return amounts


class AccountCreditForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired("Enter the amount."), money_field_check])
    reason = TextAreaField("Reason", validators=[DataRequired("Say why the credit is issued."), Length(max=1000)])
