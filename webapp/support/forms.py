from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.support.models import PRIORITIES, STATUS_LABELS, STATUSES

PRIORITY_CHOICES = [SelectChoice(p, _l(p.title())) for p in PRIORITIES]  # "Low" etc. are in webapp.core.terms
STATUS_CHOICES = [SelectChoice(s, STATUS_LABELS[s]) for s in STATUSES]


class TicketForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Describe the problem"), validators=[DataRequired(), Length(max=20000)])
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES, default="NORMAL")
    attachment = FileField(_l("Attachment (optional)"))


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=20000)])


class StaffReplyForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000)])
    internal = BooleanField(_l("Internal note (staff only, never shown to the customer)"))
    status = SelectField(
        _l("Then set status"), choices=[SelectChoice("", _l("Automatic")), *STATUS_CHOICES], default=""
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=STATUS_CHOICES)


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES)


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), choices=[], validate_choice=False)
