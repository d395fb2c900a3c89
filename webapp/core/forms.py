"""Form helpers: carry a service's DomainError onto the form so it shows beside the field."""

from __future__ import annotations

from flask_wtf import FlaskForm

from webapp.core.errors import DomainError


def apply_error(form: FlaskForm, error: DomainError, field: str | None = None) -> None:
    name = error.field or field
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        errors = list(target.errors) if isinstance(target.errors, list | tuple) else []
        target.errors = [*errors, error.message]
    else:
        form.form_errors.append(error.message)
