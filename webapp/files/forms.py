from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from webapp.core.errors import DomainError
from webapp.core.terms import N_
from webapp.files.images import MAX_SIDE, MIN_SIDE, Crop

TYPE_CHOICES = [
    SelectChoice("PROJECT_ASSET", _l("Project asset")),
    SelectChoice("TASK_ATTACHMENT", _l("Task attachment")),
    SelectChoice("WORKSPACE_LOGO", _l("Organization logo")),
    SelectChoice("USER_AVATAR", _l("Avatar")),
    SelectChoice("TEMPORARY_UPLOAD", _l("Temporary file (deleted after a day)")),
]


class UploadForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    file_type = SelectField(_l("What is it?"), choices=TYPE_CHOICES, default="PROJECT_ASSET")
    project_id = SelectField(_l("Project"), coerce=str, choices=[])
    task_id = SelectField(_l("Task"), coerce=str, choices=[])
    temporary = BooleanField(_l("Temporary (expires automatically)"))


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
            raise DomainError(
                N_("Give the crop square's left, top and side, or leave all three empty."), field="crop_size"
            )
        return Crop(*values)
