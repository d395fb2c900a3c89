"""System settings: domains ``define`` their settings; code reads them with ``get``."""

from webapp.settings import models  # noqa: F401  (the table)
from webapp.settings.registry import DEFINITIONS, define, get

__all__ = ["DEFINITIONS", "define", "get"]
