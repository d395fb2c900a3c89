"""Staff pages for organizations, users, settings, the audit log, e-mails and job queues."""

from webapp.admin import bp  # noqa: F401
