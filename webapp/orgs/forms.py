from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from webapp.core.access import MEMBER, ROLES
from webapp.orgs.countries import COUNTRY_NAMES

ROLE_CHOICES = [SelectChoice(role, role.title()) for role in ROLES]
COUNTRIES = [SelectChoice(code, name) for code, name in COUNTRY_NAMES.items()]
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


class AddressForm(FlaskForm):
    """Printed on the organization's invoices and credit notes (the service checks the content)."""

    address_line = StringField(
        "Street address", validators=[Length(max=200)], description="Street and number, building"
    )
    postal_code = StringField("Postal code", validators=[Length(max=16)])
    city = StringField("City", validators=[Length(max=100)])
    country = SelectField("Country", choices=COUNTRIES)
    phone = StringField(
        "Phone", validators=[Length(max=32)], description="With the country code, e.g. +263 242 700 100"
    )


class InviteForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Email()])
    role = SelectField("Role", choices=ROLE_CHOICES, default=MEMBER)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class TransferForm(FlaskForm):
    member_id = SelectField("New owner", coerce=int, choices=[])


class DeleteForm(FlaskForm):
    confirm_slug = StringField("Type the organization's address to confirm", validators=[DataRequired()])
