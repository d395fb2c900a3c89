"""Mail: templates with HTML and text parts, logged, delivered over SMTP by a job."""

from webapp.mail.services import send_email

__all__ = ["send_email"]
