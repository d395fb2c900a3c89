from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from webapp.core.access import ROLES

ROLE_CHOICES = [SelectChoice(role, role.title()) for role in ROLES]
COUNTRIES = [
    SelectChoice(code, name)
    for code, name in (
        ("ZW", "Zimbabwe"),
        ("ZA", "South Africa"),
        ("JP", "Japan"),
        ("US", "United States"),
        ("GB", "United Kingdom"),
        ("DE", "Germany"),
        ("KE", "Kenya"),
        ("BW", "Botswana"),
    )
]
COMMON_ZONES = [
    "UTC",
    "Africa/Harare",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
]


class OrganizationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        "Address",
        validators=[DataRequired(), Length(min=3, max=63)],
        description="Lowercase letters, digits and dashes: /o/<address>/",
    )
    email = EmailField("Contact e-mail", validators=[DataRequired(), Email()])
    country = SelectField("Country", choices=COUNTRIES)
    timezone = SelectField("Time zone", choices=[SelectChoice(z) for z in COMMON_ZONES])


class OrganizationSettingsForm(OrganizationForm):
    slug = None


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email()])
    role = SelectField("Role", choices=ROLE_CHOICES, default="MEMBER")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class TransferForm(FlaskForm):
    member_id = SelectField("New owner", coerce=int, choices=[])


class DeleteForm(FlaskForm):
    confirm_slug = StringField("Type the organization's address to confirm", validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """Buttons that only need the CSRF token."""

    next = HiddenField()
