"""Response headers, error pages and the JSON/HTML error split."""

from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError

from webapp.core.errors import DomainError
from webapp.core.terms import N_

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
    "form-action 'self' {form_extra}; base-uri 'self'; object-src 'none'"
)


# Addresses that machines call (the API, inbound webhooks): their errors are JSON whatever they accept.
MACHINE_PREFIXES = ("/api/", "/webhooks/")


def wants_json() -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str, details=None):
    if wants_json():
        return jsonify({"error": {"code": code, "message": message, "details": details or {}}}), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        form_extra = app.config.get("CSP_FORM_ACTION_EXTRA", "")
        response.headers.setdefault("Content-Security-Policy", CSP.format(form_extra=form_extra).strip())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("HSTS_MAX_AGE"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}")
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return error_response(
            400, "csrf_failed", N_("The form expired or was sent from elsewhere. Reload and try again.")
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return error_response(error.status, error.code, error.message, error.details)

    # English here (the JSON API's words); the error page shows them in the reader's language.
    messages = {
        400: ("bad_request", N_("The request could not be understood.")),
        403: ("forbidden", N_("Your role in this organization does not allow that.")),
        404: ("not_found", N_("There is nothing here.")),
        405: ("method_not_allowed", N_("That method is not allowed here.")),
        413: ("payload_too_large", N_("The request body is larger than this address accepts.")),
        429: ("rate_limited", N_("Too many attempts. Wait a moment and try again.")),
        500: ("internal_error", N_("Something went wrong on our side. It has been logged.")),
    }
    for status, (code, message) in messages.items():
        if status in (404, 405, 413):
            continue  # below: the API's own 404 text, and the Allow header
        app.register_error_handler(status, lambda error, s=status, c=code, m=message: error_response(s, c, m))

    @app.errorhandler(404)
    def not_found(error):
        if request.path.startswith("/api/"):
            return error_response(404, "not_found", "There is no such API endpoint. See /api/v1/openapi.json.")
        return error_response(404, *messages[404])

    @app.errorhandler(413)
    def too_large(error):
        limit = request.max_content_length
        if limit is None:
            return error_response(413, *messages[413])
        message = f"The request body is larger than this address accepts ({limit:,} bytes)."
        return error_response(413, "payload_too_large", message, {"max_bytes": limit})

    @app.errorhandler(405)
    def method_not_allowed(error):
        """The methods the address does take travel in ``Allow`` (RFC 9110), as Werkzeug's own page does."""
        response = make_response(error_response(405, *messages[405]))
        if getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response
