"""Domain errors: raised by services, carried to the person as a readable message."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the action. ``code`` is stable for the JSON API; ``message`` is for people."""

    code = "invalid_request"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, details=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class IllegalTransition(Conflict):
    code = "illegal_transition"


class LimitExceeded(DomainError):
    """A plan limit bites; ``limit`` names it so the page can link to an upgrade."""

    code = "limit_exceeded"
    status = 403

    def __init__(self, message: str, *, limit: str, **kw):
        super().__init__(message, **kw)
        self.limit = limit
