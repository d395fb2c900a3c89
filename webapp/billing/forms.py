"""Billing forms (amounts are typed as decimals and parsed into cents)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
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
        _l("Pay with"),
        choices=[
            SelectChoice("PAYNOW_WEB", _l("Paynow checkout")),
            SelectChoice("PAYNOW_VISA", _l("Visa")),
            SelectChoice("PAYNOW_MASTERCARD", _l("Mastercard")),
        ],
        default="PAYNOW_WEB",
    )


class ExpressPayForm(FlaskForm):
    method = SelectField(
        _l("Wallet"),
        choices=[
            SelectChoice("PAYNOW_ECOCASH", _l("EcoCash")),
            SelectChoice("PAYNOW_ONEMONEY", _l("OneMoney")),
            SelectChoice("PAYNOW_INNBUCKS", _l("InnBucks")),
        ],
    )
    phone = StringField(_l("Mobile number"), validators=[DataRequired("Enter your mobile number."), Length(max=20)])


class ManualPaymentForm(FlaskForm):
    amount = StringField(_l("Amount"), validators=[DataRequired("Enter the amount."), money_field_check])
    method = SelectField(
        _l("Method"), choices=[SelectChoice("BANK_TRANSFER", _l("Bank transfer")), SelectChoice("CASH", _l("Cash"))]
    )
    reference = StringField(
        _l("Reference"), validators=[DataRequired("Give the bank or receipt reference."), Length(max=120)]
    )


class CreditForm(FlaskForm):
    amount = StringField(_l("Amount"), validators=[DataRequired("Enter the amount."), money_field_check])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired("Say why the credit is issued."), Length(max=1000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired("Give a reason."), Length(max=1000)])


class ServiceForm(FlaskForm):
    organization = StringField(_l("Organization (slug)"), validators=[Optional(), Length(max=63)])
    type = SelectField(_l("Type"), choices=[SelectChoice(t, t.replace("_", " ").title()) for t in SERVICE_TYPES])
    name = StringField(_l("Name"), validators=[DataRequired("Name the service."), Length(max=120)])
    hardware_serial = StringField(_l("Hardware serial"), validators=[Optional(), Length(max=64)])
    monthly_fee = StringField(_l("Monthly fee"), validators=[DataRequired("Enter the monthly fee.")])

    def validate_monthly_fee(self, field):
        try:
            field.cents = parse_amount(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if field.cents < 0:
            raise ValidationError("The fee cannot be negative.")


class DraftInvoiceForm(FlaskForm):
    organization = StringField(_l("Organization (slug)"), validators=[DataRequired(), Length(max=63)])
    period = StringField(_l("Period (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])


class LineForm(FlaskForm):
    description = StringField(_l("Description"), validators=[DataRequired("Describe the line."), Length(max=300)])
    quantity = IntegerField(_l("Quantity"), default=1, validators=[NumberRange(1, 1_000_000)])
    unit_price = StringField(_l("Unit price"), validators=[DataRequired("Enter the unit price.")])
    # A service's line bills the invoice's period of it (refused when a live invoice already did).
    service = StringField(_l("Service (bills the invoice's period)"), validators=[Optional(), Length(max=19)])

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
    period = StringField(_l("Period (YYYY-MM)"), validators=[DataRequired(), Length(max=7)])


class GraceForm(FlaskForm):
    grace_period_days = IntegerField(_l("Grace period (days)"), validators=[NumberRange(0, 365)])
