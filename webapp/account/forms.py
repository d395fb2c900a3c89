from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=120)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])


class EnableTotpForm(FlaskForm):
    code = StringField("6-digit code", validators=[DataRequired(), Length(min=6, max=8)])


class DisableTotpForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired()])


class RecoveryCodesForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired()])
