from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.api.models import SCOPES

SCOPE_HELP = {
    "usage:write": _l("send usage events"),
    "usage:read": _l("read usage aggregates"),
    "services:read": _l("list services"),
    "invoices:read": _l("list and read invoices"),
    "events:read": _l("list and read events (what webhooks send)"),
}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    scopes = CheckboxesField(
        _l("Scopes"), choices=[SelectChoice(s, _l("%(scope)s — %(help)s", scope=s, help=SCOPE_HELP[s])) for s in SCOPES]
    )
    rate_limit = IntegerField(
        _l("Requests per hour"), default=1000, validators=[DataRequired(), NumberRange(min=1, max=1_000_000)]
    )
    expires_in_days = IntegerField(
        _l("Expires after (days)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description=_l("Leave empty for a key that does not expire"),
    )
