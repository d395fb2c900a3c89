"""Projects and tasks: a minimal per-organization model that other domains attach things to
(Drive files, uploads). Views (list, board) come later; this package keeps the model and rules."""

from webapp.projects import models  # noqa: F401
