from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from webapp.core.errors import DomainError
from webapp.files.images import MAX_SIDE, MIN_SIDE, Crop

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


class ImageForm(FlaskForm):
    """An avatar or logo: the picture, and optionally the square to keep (else the centred one)."""

    file = FileField(
        _l("Picture (PNG, JPEG, WebP or GIF)"), validators=[FileRequired(_l("Choose a picture to upload."))]
    )
    crop_x = IntegerField(_l("Crop: left (px)"), validators=[Optional(), NumberRange(min=0, max=MAX_SIDE)])
    crop_y = IntegerField(_l("Crop: top (px)"), validators=[Optional(), NumberRange(min=0, max=MAX_SIDE)])
    crop_size = IntegerField(_l("Crop: side (px)"), validators=[Optional(), NumberRange(min=MIN_SIDE, max=MAX_SIDE)])

    def crop(self) -> Crop | None:
        """The chosen square, or None for the centred one; a partly filled box is refused."""
        values = (self.crop_x.data, self.crop_y.data, self.crop_size.data)
        if all(v is None for v in values):
            return None
        if any(v is None for v in values):
            raise DomainError("Give the crop square's left, top and side, or leave all three empty.", field="crop_size")
        return Crop(*values)
