from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.api.models import SCOPES

SCOPE_HELP = {
    "usage:write": "send usage events",
    "usage:read": "read usage aggregates",
    "services:read": "list services",
    "invoices:read": "list and read invoices",
    "events:read": "list and read events (what webhooks send)",
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    scopes = CheckboxesField("Scopes", choices=[SelectChoice(s, f"{s} — {SCOPE_HELP[s]}") for s in SCOPES])
    rate_limit = IntegerField(
        "Requests per hour", default=1000, validators=[DataRequired(), NumberRange(min=1, max=1_000_000)]
    )
    expires_in_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description="Leave empty for a key that does not expire",
    )
