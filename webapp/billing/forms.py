"""Billing forms (amounts are typed as decimals and parsed into cents)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from webapp.billing.models import SERVICE_TYPES
from webapp.core.money import parse_amount


def money_field_check(form, field):
    try:
        field.cents = parse_amount(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from None
    if field.cents <= 0:
        raise ValidationError("Enter an amount above zero.")


class WebPayForm(FlaskForm):
    method = SelectField(
        "Pay with",
        choices=[
            SelectChoice("PAYNOW_WEB", "Paynow checkout"),
            SelectChoice("PAYNOW_VISA", "Visa"),
            SelectChoice("PAYNOW_MASTERCARD", "Mastercard"),
        ],
        default="PAYNOW_WEB",
    )


class ExpressPayForm(FlaskForm):
    method = SelectField(
        "Wallet",
        choices=[
            SelectChoice("PAYNOW_ECOCASH", "EcoCash"),
            SelectChoice("PAYNOW_ONEMONEY", "OneMoney"),
            SelectChoice("PAYNOW_INNBUCKS", "InnBucks"),
        ],
    )
    phone = StringField("Mobile number", validators=[DataRequired("Enter your mobile number."), Length(max=20)])


class ManualPaymentForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired("Enter the amount."), money_field_check])
    method = SelectField(
        "Method", choices=[SelectChoice("BANK_TRANSFER", "Bank transfer"), SelectChoice("CASH", "Cash")]
    )
    reference = StringField(
        "Reference", validators=[DataRequired("Give the bank or receipt reference."), Length(max=120)]
    )


class CreditForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired("Enter the amount."), money_field_check])
    reason = TextAreaField("Reason", validators=[DataRequired("Say why the credit is issued."), Length(max=1000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason."), Length(max=1000)])


class ServiceForm(FlaskForm):
    organization = StringField("Organization (slug)", validators=[Optional(), Length(max=63)])
    type = SelectField("Type", choices=[SelectChoice(t, t.replace("_", " ").title()) for t in SERVICE_TYPES])
    name = StringField("Name", validators=[DataRequired("Name the service."), Length(max=120)])
    hardware_serial = StringField("Hardware serial", validators=[Optional(), Length(max=64)])
    monthly_fee = StringField("Monthly fee", validators=[DataRequired("Enter the monthly fee.")])

    def validate_monthly_fee(self, field):
        try:
            field.cents = parse_amount(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if field.cents < 0:
            raise ValidationError("The fee cannot be negative.")


class DraftInvoiceForm(FlaskForm):
    organization = StringField("Organization (slug)", validators=[DataRequired(), Length(max=63)])
    period = StringField("Period (YYYY-MM)", validators=[DataRequired(), Length(max=7)])


class LineForm(FlaskForm):
    description = StringField("Description", validators=[DataRequired("Describe the line."), Length(max=300)])
    quantity = IntegerField("Quantity", default=1, validators=[NumberRange(1, 1_000_000)])
    unit_price = StringField("Unit price", validators=[DataRequired("Enter the unit price.")])
    # A service's line bills the invoice's period of it (refused when a live invoice already did).
    service = StringField("Service (bills the invoice's period)", validators=[Optional(), Length(max=19)])

    def validate_service(self, field):
        text = (field.data or "").strip()
        if not text:
            field.data = None
            return
        if not (text.isascii() and text.isdigit()) or int(text) > 2**63 - 1:
            raise ValidationError("Choose a service.")
        field.data = int(text)

    def validate_unit_price(self, field):
        try:
            field.cents = parse_amount(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None


class RunForm(FlaskForm):
    period = StringField("Period (YYYY-MM)", validators=[DataRequired(), Length(max=7)])


class GraceForm(FlaskForm):
    grace_period_days = IntegerField("Grace period (days)", validators=[NumberRange(0, 365)])
