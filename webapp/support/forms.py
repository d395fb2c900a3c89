from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.support.models import PRIORITIES, STATUS_LABELS, STATUSES

PRIORITY_CHOICES = [SelectChoice(p, p.title()) for p in PRIORITIES]
STATUS_CHOICES = [SelectChoice(s, STATUS_LABELS[s]) for s in STATUSES]


class TicketForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Describe the problem", validators=[DataRequired(), Length(max=20000)])
    priority = SelectField("Priority", choices=PRIORITY_CHOICES, default="NORMAL")
    attachment = FileField("Attachment (optional)")


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", validators=[DataRequired(), Length(max=20000)])


class StaffReplyForm(FlaskForm):
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=20000)])
    internal = BooleanField("Internal note (staff only, never shown to the customer)")
    status = SelectField("Then set status", choices=[SelectChoice("", "Automatic"), *STATUS_CHOICES], default="")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES)


class PriorityForm(FlaskForm):
    priority = SelectField("Priority", choices=PRIORITY_CHOICES)


class AssignForm(FlaskForm):
    assignee_id = SelectField("Assignee", choices=[], validate_choice=False)
