from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from webapp.developers.catalog import CATALOG


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField(_l("Endpoint URL"), validators=[DataRequired(), Length(max=2000)])
    description = StringField(_l("Description"), validators=[Length(max=200)])
    event_types = CheckboxesField(
        _l("Events to send"), choices=[SelectChoice(name, f"{name} — {t.description}") for name, t in CATALOG.items()]
    )
    ordered = BooleanField(
        _l("Ordered delivery"),
        description=_l("Send events strictly in the order they happened (a failing one holds back the rest)"),
    )
