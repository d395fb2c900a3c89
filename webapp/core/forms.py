"""Form helpers: the CSRF-only form of every button, and a service's DomainError carried onto the form
so it shows beside the field."""

from __future__ import annotations

from flask_wtf import FlaskForm

from webapp.core.errors import DomainError


class EmptyForm(FlaskForm):
    """A button that posts nothing but the CSRF token (delete, revoke, retry...)."""


def apply_error(form: FlaskForm, error: DomainError, field: str | None = None) -> None:
    """The message beside the error's own field when the form has it, else beside ``field``, else on the form."""
    from webapp.core.display import translated

    message = translated(error.message)  # a refusal marked N_ reads in the viewer's language
    names = [n for n in (error.field, field) if n and hasattr(getattr(form, n, None), "errors")]
    target = getattr(form, names[0]) if names else None
    if target is not None:
        errors = list(target.errors) if isinstance(target.errors, list | tuple) else []
        target.errors = [*errors, message]
    else:
        form.form_errors.append(message)
