from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.projects.models import Task

# Lazy: each label reads in the viewer's language (the words are listed in ``Task.LABELS``).
STATUS_CHOICES = [SelectChoice(status, _l(label)) for status, label in Task.LABELS.items()]


class ProjectForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class TaskForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default=Task.TODO)
    assignee_id = SelectField(_l("Assignee"), coerce=str, choices=[], validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[Optional()])


class AttachDriveForm(FlaskForm):
    drive_file_id = SelectField(_l("Google Drive file"), coerce=str, choices=[], validate_choice=False)
