from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.ai.models import ADMIN_ADJUSTMENT, BONUS


class ChatForm(FlaskForm):
    question = TextAreaField(_l("Ask the assistant"), validators=[DataRequired(), Length(max=4000)])


class CaptionForm(FlaskForm):
    title = StringField(_l("Video title"), validators=[DataRequired(), Length(max=200)])
    topic = StringField(_l("What is it about?"), validators=[Optional(), Length(max=500)])


class PurchaseForm(FlaskForm):
    packs = IntegerField(_l("Packs"), default=1, validators=[DataRequired(), NumberRange(1, 100)])


class PromptForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    system_prompt = TextAreaField("System prompt", validators=[DataRequired(), Length(max=20000)])
    user_template = TextAreaField("User message template", validators=[DataRequired(), Length(max=20000)])
    max_tokens = IntegerField("Max output tokens", validators=[DataRequired(), NumberRange(16, 8000)])
    is_active = BooleanField("Active")


class AdjustForm(FlaskForm):
    org_slug = StringField("Organization address", validators=[DataRequired(), Length(max=63)])
    type = SelectField(
        "Kind", choices=[SelectChoice(BONUS, "Bonus"), SelectChoice(ADMIN_ADJUSTMENT, "Admin adjustment")]
    )
    amount = IntegerField(
        "Credits (negative removes)", validators=[DataRequired(), NumberRange(-10_000_000, 10_000_000)]
    )
    reason = StringField("Reason", validators=[DataRequired(), Length(max=200)])


class GoalForm(FlaskForm):
    goal = TextAreaField(
        _l("What should this project achieve?"),
        validators=[DataRequired(), Length(min=10, max=4000)],
        description=_l("A sentence or two; the AI proposes tasks you can edit or drop before anything is created."),
    )


class CsrfOnlyForm(FlaskForm):
    """A form whose fields the route reads itself (one row per proposed task); this checks the token."""


class DocumentForm(FlaskForm):
    document = FileField(_l("Upload a text file or a PDF"))
    upload_id = SelectField(_l("…or one of your files"), coerce=str, choices=[], validate_choice=False)
    drive_file_id = SelectField(_l("…or a synced Google Drive file"), coerce=str, choices=[], validate_choice=False)


class TasksFromDocumentForm(FlaskForm):
    project_id = SelectField(_l("Into project"), coerce=str, choices=[], validate_choice=False)
