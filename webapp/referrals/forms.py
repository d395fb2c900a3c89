from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

METHOD_CHOICES = [
    SelectChoice("BANK_TRANSFER", _l("Bank transfer")),
    SelectChoice("PAYPAL", "PayPal"),
    SelectChoice("STRIPE", "Stripe"),
    SelectChoice("STORE_CREDIT", _l("Store credit on an organization")),
]


class InviteForm(FlaskForm):
    email = EmailField(_l("Their e-mail"), validators=[DataRequired(), Email()])


class SlugForm(FlaskForm):
    slug = StringField(
        _l("Custom link"),
        validators=[DataRequired(), Length(min=3, max=40)],
        description=_l("Can be set once: /r/<your-link>"),
    )


class MessageForm(FlaskForm):
    message = TextAreaField(_l("Message shown to the people you refer"), validators=[Optional(), Length(max=500)])


class PayoutForm(FlaskForm):
    amount = StringField(_l("Amount"), validators=[DataRequired()])
    method = SelectField(_l("Method"), choices=METHOD_CHOICES)
    account_email = EmailField(_l("Account e-mail (PayPal, Stripe)"), validators=[Optional(), Email()])
    account_name = StringField(_l("Account holder (bank)"), validators=[Optional(), Length(max=200)])
    bank_name = StringField(_l("Bank"), validators=[Optional(), Length(max=200)])
    account_number = StringField(_l("Account number (bank)"), validators=[Optional(), Length(max=200)])
    # Only store credit needs it; the service checks the choice against the member's organizations.
    organization_id = SelectField(
        _l("Organization to credit (store credit)"), coerce=str, choices=[], validate_choice=False
    )


class CompleteForm(FlaskForm):
    transaction_id = StringField("Transaction id", validators=[DataRequired(), Length(max=128)])


class FailForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])
