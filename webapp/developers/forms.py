from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from webapp.developers.catalog import CATALOG


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField("Endpoint URL", validators=[DataRequired(), Length(max=2000)])
    description = StringField("Description", validators=[Length(max=200)])
    event_types = CheckboxesField(
        "Events to send", choices=[SelectChoice(name, f"{name} — {t.description}") for name, t in CATALOG.items()]
    )
    ordered = BooleanField(
        "Ordered delivery",
        description="Send events strictly in the order they happened (a failing one holds back the rest)",
    )
