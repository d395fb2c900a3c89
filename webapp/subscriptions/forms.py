from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from webapp.subscriptions.models import INTERVALS

INTERVAL_CHOICES = [SelectChoice(i, i.title()) for i in INTERVALS]


class EmptyForm(FlaskForm):
    pass


class ChangePlanForm(FlaskForm):
    plan = SelectField("Plan", validators=[DataRequired()])
    interval = SelectField("Billing interval", choices=INTERVAL_CHOICES, validators=[DataRequired()])


class TrialForm(FlaskForm):
    plan = SelectField("Plan to try", validators=[DataRequired()])


class PayTrialForm(FlaskForm):
    interval = SelectField("Billing interval", choices=INTERVAL_CHOICES, validators=[DataRequired()])


class MoneyField(StringField):
    """'12.50' in the form, cents in ``.data``; an error says how to write it."""

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
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=10**12)], description="Empty = unlimited")


class PlanForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    description = StringField("Description")
    monthly_price = MoneyField("Monthly price", validators=[InputRequired()])
    yearly_price = MoneyField("Yearly price", validators=[InputRequired()])
    max_users = _limit_field("Users")
    max_storage_mb = _limit_field("Storage (MB)")
    max_ai_credits = _limit_field("AI credits per period")
    max_api_calls = _limit_field("API calls per month")
    metered_prices = TextAreaField(
        "Metered prices (JSON)", description='{"pos.transaction": {"unit_price": 1, "per": 1, "included": 5000}}'
    )


class EnterpriseForm(FlaskForm):
    org_slug = StringField("Organization address (slug)", validators=[DataRequired()])
    monthly_price = MoneyField("Monthly price", validators=[InputRequired()])
    yearly_price = MoneyField("Yearly price", validators=[InputRequired()])
    interval = SelectField("Billing interval", choices=INTERVAL_CHOICES)
    users = _limit_field("Users")
    storage_mb = _limit_field("Storage (MB)")
    ai_credits = _limit_field("AI credits per period")
    api_calls = _limit_field("API calls per month")
