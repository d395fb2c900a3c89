from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from webapp.workflows.definitions import EVENTS
from webapp.workflows.models import WorkflowCredential

TRIGGER_CHOICES = [
    ("manual", _l("Manual (Run now button)")),
    ("schedule", _l("Schedule (cron)")),
    ("webhook", _l("Inbound webhook")),
    ("event", _l("Tessera event")),
]


class WorkflowForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    trigger_type = SelectField(_l("Trigger"), choices=[SelectChoice(*c) for c in TRIGGER_CHOICES], default="manual")
    cron = StringField(
        _l("Cron expression"),
        validators=[Optional(), Length(max=120)],
        description=_l("Five fields in the organization's time zone, e.g. 0 9 * * 1 (Mondays 09:00)."),
    )
    event = SelectField(
        _l("Event"),
        choices=[SelectChoice("", "—"), *(SelectChoice(name, _l(words)) for name, words in EVENTS.items())],
        default="",
    )
    max_concurrency = IntegerField(_l("Runs at the same time"), default=1, validators=[Optional(), NumberRange(1, 20)])

    def trigger_config(self) -> dict:
        return {"cron": self.cron.data or "", "event": self.event.data or ""}


class AddStepForm(FlaskForm):
    type = SelectField(_l("Step type"), choices=[])


class CredentialForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(kind, _l(words)) for kind, words in WorkflowCredential.KINDS.items()]
    )
    header_name = StringField(
        _l("Header name"),
        validators=[Optional(), Length(max=80)],
        description=_l("For an API key header, e.g. X-API-Key."),
    )
    username = StringField(_l("User name"), validators=[Optional(), Length(max=120)], description=_l("For basic auth."))
    secret = PasswordField(
        _l("Secret"), validators=[Optional(), Length(max=4000)], description=_l("Stored encrypted; never shown again.")
    )
    connection_id = IntegerField(_l("OAuth connection"), validators=[Optional()])


class ReplaceSecretForm(FlaskForm):
    secret = PasswordField(_l("New secret"), validators=[DataRequired(), Length(max=4000)])


class DraftForm(FlaskForm):
    description = TextAreaField(
        _l("Describe the workflow"),
        validators=[DataRequired(), Length(min=10, max=2000)],
        description=_l("e.g. When a video is ready, post it to TikTok and tell the team in Slack."),
    )


class SaveDraftForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    definition = TextAreaField(_l("Definition"), validators=[DataRequired(), Length(max=50000)])


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Address"),
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message="Lowercase letters, digits, dashes."),
        ],
    )
    category = StringField(_l("Category"), validators=[DataRequired(), Length(max=40)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    definition = TextAreaField(_l("Definition (JSON)"), validators=[DataRequired(), Length(max=50000)])
    published = BooleanField(_l("Published"))
