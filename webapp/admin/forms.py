"""Staff console forms. List filters are GET query strings read in the routes; these are the POSTs."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[Length(max=500)],
        description="Kept in the audit log. The user sees only that the account is suspended.",
    )


class OrgSuspendForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Say why the organization is suspended."), Length(max=500)],
        description="Kept in the audit log and written in the e-mail its owners receive.",
    )


class TotpResetForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[Length(max=500)],
        description="Kept in the audit log and written in the e-mail the user receives.",
    )


class SettingForm(FlaskForm):
    value = StringField("Value", validators=[Length(max=5000)])


class BoolSettingForm(FlaskForm):
    value = BooleanField("On")


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
