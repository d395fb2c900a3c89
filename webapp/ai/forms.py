from flask_wtf import FlaskForm
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
