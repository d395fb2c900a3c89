from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from webapp.core.i18n import LANGUAGES


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=120)])
    # Each language in its own name, so a person who cannot read the page still finds theirs.
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice("", _l("As my browser asks"))] + [SelectChoice(k, v) for k, v in LANGUAGES.items()],
        default="",
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])


class EnableTotpForm(FlaskForm):
    code = StringField(_l("6-digit code"), validators=[DataRequired(), Length(min=6, max=8)])


class DisableTotpForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class RecoveryCodesForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
