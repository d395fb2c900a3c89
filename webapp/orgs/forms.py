from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from webapp.core.access import MEMBER, ROLES
from webapp.orgs.countries import COUNTRY_NAMES, country_name

ROLE_CHOICES = [SelectChoice(role, role.title()) for role in ROLES]
# Each name read in the reader's language when the form renders (``country_name`` asks Babel's CLDR names).
COUNTRIES = [SelectChoice(code, LazyString(country_name, code)) for code in COUNTRY_NAMES]
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
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Address"),
        validators=[DataRequired(), Length(min=3, max=63)],
        description=_l("Lowercase letters, digits and dashes: /o/<address>/"),
    )
    email = EmailField(_l("Contact e-mail"), validators=[DataRequired(), Email()])
    country = SelectField(_l("Country"), choices=COUNTRIES)
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(z) for z in COMMON_ZONES])


class OrganizationSettingsForm(OrganizationForm):
    slug = None


class AddressForm(FlaskForm):
    """Printed on the organization's invoices and credit notes (the service checks the content)."""

    address_line = StringField(
        _l("Street address"), validators=[Length(max=200)], description=_l("Street and number, building")
    )
    postal_code = StringField(_l("Postal code"), validators=[Length(max=16)])
    city = StringField(_l("City"), validators=[Length(max=100)])
    country = SelectField(_l("Country"), choices=COUNTRIES)
    phone = StringField(
        _l("Phone"), validators=[Length(max=32)], description=_l("With the country code, e.g. +263 242 700 100")
    )


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=MEMBER)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class TransferForm(FlaskForm):
    member_id = SelectField(_l("New owner"), coerce=int, choices=[])


class DeleteForm(FlaskForm):
    confirm_slug = StringField(_l("Type the organization's address to confirm"), validators=[DataRequired()])
