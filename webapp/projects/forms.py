from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.projects.models import Task

STATUS_CHOICES = [SelectChoice(status, label) for status, label in Task.LABELS.items()]


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


class TaskForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    status = SelectField("Status", choices=STATUS_CHOICES, default=Task.TODO)
    assignee_id = SelectField("Assignee", coerce=str, choices=[], validate_choice=False)
    due_date = DateField("Due date", validators=[Optional()])


class AttachDriveForm(FlaskForm):
    drive_file_id = SelectField("Google Drive file", coerce=str, choices=[], validate_choice=False)
