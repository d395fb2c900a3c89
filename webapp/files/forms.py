from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField

TYPE_CHOICES = [
    SelectChoice("PROJECT_ASSET", "Project asset"),
    SelectChoice("TASK_ATTACHMENT", "Task attachment"),
    SelectChoice("WORKSPACE_LOGO", "Organization logo"),
    SelectChoice("USER_AVATAR", "Avatar"),
    SelectChoice("TEMPORARY_UPLOAD", "Temporary file (deleted after a day)"),
]


class UploadForm(FlaskForm):
    file = FileField("File", validators=[FileRequired("Choose a file to upload.")])
    file_type = SelectField("What is it?", choices=TYPE_CHOICES, default="PROJECT_ASSET")
    project_id = SelectField("Project", coerce=str, choices=[])
    task_id = SelectField("Task", coerce=str, choices=[])
    temporary = BooleanField("Temporary (expires automatically)")
