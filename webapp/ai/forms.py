from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.ai.models import ADMIN_ADJUSTMENT, BONUS


class ChatForm(FlaskForm):
    question = TextAreaField("Ask the assistant", validators=[DataRequired(), Length(max=4000)])


class CaptionForm(FlaskForm):
    title = StringField("Video title", validators=[DataRequired(), Length(max=200)])
    topic = StringField("What is it about?", validators=[Optional(), Length(max=500)])


class PurchaseForm(FlaskForm):
    packs = IntegerField("Packs", default=1, validators=[DataRequired(), NumberRange(1, 100)])


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
        "What should this project achieve?",
        validators=[DataRequired(), Length(min=10, max=4000)],
        description="A sentence or two; the AI proposes tasks you can edit or drop before anything is created.",
    )


class CsrfOnlyForm(FlaskForm):
    """A form whose fields the route reads itself (one row per proposed task); this checks the token."""


class DocumentForm(FlaskForm):
    document = FileField("Upload a text file or a PDF")
    upload_id = SelectField("…or one of your files", coerce=str, choices=[], validate_choice=False)
    drive_file_id = SelectField("…or a synced Google Drive file", coerce=str, choices=[], validate_choice=False)


class TasksFromDocumentForm(FlaskForm):
    project_id = SelectField("Into project", coerce=str, choices=[], validate_choice=False)
