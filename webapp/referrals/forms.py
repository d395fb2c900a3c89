from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

METHOD_CHOICES = [
    SelectChoice("BANK_TRANSFER", "Bank transfer"),
    SelectChoice("PAYPAL", "PayPal"),
    SelectChoice("STRIPE", "Stripe"),
    SelectChoice("STORE_CREDIT", "Store credit on an organization"),
]


class InviteForm(FlaskForm):
    email = EmailField("Their e-mail", validators=[DataRequired(), Email()])


class SlugForm(FlaskForm):
    slug = StringField(
        "Custom link", validators=[DataRequired(), Length(min=3, max=40)], description="Can be set once: /r/<your-link>"
    )


class MessageForm(FlaskForm):
    message = TextAreaField("Message shown to the people you refer", validators=[Optional(), Length(max=500)])


class PayoutForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired()])
    method = SelectField("Method", choices=METHOD_CHOICES)
    account_email = EmailField("Account e-mail (PayPal, Stripe)", validators=[Optional(), Email()])
    account_name = StringField("Account holder (bank)", validators=[Optional(), Length(max=200)])
    bank_name = StringField("Bank", validators=[Optional(), Length(max=200)])
    account_number = StringField("Account number (bank)", validators=[Optional(), Length(max=200)])
    # Only store credit needs it; the service checks the choice against the member's organizations.
    organization_id = SelectField(
        "Organization to credit (store credit)", coerce=str, choices=[], validate_choice=False
    )


class CompleteForm(FlaskForm):
    transaction_id = StringField("Transaction id", validators=[DataRequired(), Length(max=128)])


class FailForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(), Length(max=1000)])
