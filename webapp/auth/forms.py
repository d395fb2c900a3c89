from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class SignupForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email()])
    password = PasswordField("Password", validators=[DataRequired()])


class TotpForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[DataRequired(), Length(min=6, max=32)]
    )


class ResetRequestForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email()])


class ResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
