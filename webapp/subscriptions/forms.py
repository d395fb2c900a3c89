from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from webapp.subscriptions.models import INTERVALS

# Labels read in the reader's language ("Monthly" is in the catalogue through webapp.core.terms).
INTERVAL_CHOICES = [SelectChoice(i, _l(i.title())) for i in INTERVALS]


class ChangePlanForm(FlaskForm):
    plan = SelectField(_l("Plan"), validators=[DataRequired()])
    interval = SelectField(_l("Billing interval"), choices=INTERVAL_CHOICES, validators=[DataRequired()])


class PromotionCodeForm(FlaskForm):
    code = StringField(_l("Promotion code"), validators=[DataRequired(), Length(max=40)])


class TrialForm(FlaskForm):
    plan = SelectField(_l("Plan to try"), validators=[DataRequired()])


class PayTrialForm(FlaskForm):
    interval = SelectField(_l("Billing interval"), choices=INTERVAL_CHOICES, validators=[DataRequired()])


class MoneyField(StringField):
    """'12.50' in the form, cents in ``.data``; an error says how to write it."""

    data: int | None

    def process_formdata(self, valuelist):
        from webapp.core.money import parse_amount

        self.raw = valuelist[0] if valuelist else ""
        try:
            self.data = parse_amount(self.raw)
        except ValueError as error:
            self.data = None
            raise ValueError(str(error)) from None
        if self.data < 0:
            self.data = None
            raise ValueError("The price cannot be negative.")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data // 100}.{self.data % 100:02d}"


def _limit_field(label):
    return IntegerField(
        label, validators=[Optional(), NumberRange(min=0, max=10**12)], description=_l("Empty = unlimited")
    )


class PlanForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired()])
    description = StringField(_l("Description"))
    monthly_price = MoneyField(_l("Monthly price"), validators=[InputRequired()])
    yearly_price = MoneyField(_l("Yearly price"), validators=[InputRequired()])
    max_users = _limit_field("Users")
    max_storage_mb = _limit_field("Storage (MB)")
    max_ai_credits = _limit_field("AI credits per period")
    max_api_calls = _limit_field("API calls per month")
    metered_prices = TextAreaField(
        _l("Metered prices (JSON)"), description='{"pos.transaction": {"unit_price": 1, "per": 1, "included": 5000}}'
    )


class EnterpriseForm(FlaskForm):
    org_slug = StringField(_l("Organization address (slug)"), validators=[DataRequired()])
    monthly_price = MoneyField(_l("Monthly price"), validators=[InputRequired()])
    yearly_price = MoneyField(_l("Yearly price"), validators=[InputRequired()])
    interval = SelectField(_l("Billing interval"), choices=INTERVAL_CHOICES)
    users = _limit_field("Users")
    storage_mb = _limit_field("Storage (MB)")
    ai_credits = _limit_field("AI credits per period")
    api_calls = _limit_field("API calls per month")


class OptionalMoneyField(MoneyField):
    """A MoneyField that may be left empty (``.data`` None)."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.raw, self.data = "", None
            return
        super().process_formdata(valuelist)


class PercentField(StringField):
    """'25', '12.5' or '25%' in the form, basis points in ``.data``; empty is None."""

    def process_formdata(self, valuelist):
        from webapp.subscriptions.coupons import parse_percent

        raw = (valuelist[0] if valuelist else "") or ""
        if not raw.strip():
            self.data = None
            return
        try:
            self.data = parse_percent(raw)
        except ValueError as error:
            self.data = None
            raise ValueError(str(error)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data / 100:g}"


class CouponForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    percent_off = PercentField(_l("Percent off"), description=_l("25 or 12.5 (leave empty for a fixed amount)"))
    amount_off = OptionalMoneyField(
        _l("Amount off"), description=_l("Per invoice, e.g. 10.00 (leave empty for a percentage)")
    )
    currency = StringField(_l("Currency of the amount"), default="USD", validators=[Length(max=3)])
    duration = SelectField(
        _l("Duration"),
        choices=[
            SelectChoice("ONCE", _l("Once (the next invoice)")),
            SelectChoice("REPEATING", _l("Repeating for some months")),
            SelectChoice("FOREVER", _l("Forever")),
        ],
    )
    duration_in_months = IntegerField(_l("Months (repeating)"), validators=[Optional(), NumberRange(min=1, max=120)])
    max_redemptions = IntegerField(
        _l("Max redemptions"),
        validators=[Optional(), NumberRange(min=1, max=10**9)],
        description=_l("Empty = no limit"),
    )
    redeem_by = DateField(_l("Redeem by"), validators=[Optional()], description=_l("Last day it can be redeemed (UTC)"))
    plans = SelectMultipleField(_l("Only for plans"), description=_l("None chosen = every plan"))


class PromotionCodeCreateForm(FlaskForm):
    coupon_id = SelectField(_l("Coupon"), coerce=int, validators=[DataRequired()])
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Customers type it; case does not matter"),
    )
    code_max_redemptions = IntegerField(
        _l("Max redemptions"),
        validators=[Optional(), NumberRange(min=1, max=10**9)],
        description=_l("Empty = the coupon's limit"),
    )
    code_expires_at = DateField(
        _l("Expires"), validators=[Optional()], description=_l("Last day it can be redeemed (UTC)")
    )
