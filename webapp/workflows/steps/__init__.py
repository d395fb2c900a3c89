"""Step types in a registry (CTFd-style): each has a WTForms form that validates its settings and an
executor that runs it. ``register`` adds a type; the editor, the definition validator (templates, AI
drafts) and the runner all read ``STEP_TYPES``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectChoice

if TYPE_CHECKING:
    from webapp.orgs.models import Organization
    from webapp.workflows.models import Workflow, WorkflowRun

STEP_TYPES: dict[str, type[StepType]] = {}


class StepFailed(Exception):
    """The step did not do its job; ``message`` is shown on the run (never holds a secret)."""


class StopRun(Exception):
    """A condition step decided the run ends here, successfully."""


class WaitUntil(Exception):
    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


@dataclass
class StepContext:
    """What an executor may use: the run's organization, its scope for placeholders, and the log."""

    org: Organization
    workflow: Workflow
    run: WorkflowRun
    position: int
    scope: dict
    secrets: list[str] = field(default_factory=list)
    credential_uses: list[tuple[int, bool]] = field(default_factory=list)

    def render(self, text: str) -> str:
        from webapp.workflows.templating import TemplateProblem, render_text

        try:
            return render_text(text, self.scope)
        except TemplateProblem as problem:
            raise StepFailed(str(problem)) from None


class StepType:
    type: str = ""
    label: str = ""
    description: str = ""
    form: builtins.type[Form] = Form  # builtins: the class's own ``type`` is the step's name
    uses_credential: bool = False
    credential_kinds: tuple[str, ...] = ()
    #: Every effect of the step is a write in the run's own transaction (rows, e-mails and jobs through
    #: the outbox), nothing reaches outside while it runs: a worker that dies before the commit leaves
    #: no trace of it. The runner saves such steps together (see ``execution._execute``).
    contained: bool = False

    @classmethod
    def make_form(cls, config: dict | None = None, formdata=None, prefix: str = "") -> Form:
        form = cls.form(formdata=formdata, prefix=prefix, data=dict(config or {}))
        return form

    @classmethod
    def clean(cls, form: Form) -> dict:
        """The stored settings: the form's data without the credential choice."""
        return {name: f.data for name, f in form._fields.items() if name != "credential_id"}

    @classmethod
    def validate(cls, config: dict) -> tuple[dict | None, dict]:
        """(clean settings, errors by field) for settings that come from a definition (template, AI draft)."""
        formdata = MultiDict(
            {k: ("" if v is None else v) for k, v in (config or {}).items() if not isinstance(v, list)}
        )
        for key, value in (config or {}).items():
            if isinstance(value, list):
                formdata.setlist(key, value)
        form = cls.make_form(formdata=formdata)
        if "credential_id" in form._fields:
            form.credential_id.choices = [SelectChoice(0, "")]
            form.credential_id.data = 0
        if not form.validate():
            return None, {k: v for k, v in form.errors.items()}
        return cls.clean(form), {}

    @classmethod
    def summary(cls, config: dict) -> str:
        return ""

    @classmethod
    def repeatable(cls, config: dict) -> bool:
        """Safe to run again when the worker died in the middle of it: nothing outside changes, or
        only idempotently. The lease sweeper re-queues such a run; any other it fails with a reason."""
        return False

    @classmethod
    def execute(cls, ctx: StepContext, config: dict, step) -> dict:
        raise NotImplementedError


def register(cls: type[StepType]) -> type[StepType]:
    STEP_TYPES[cls.type] = cls
    return cls


def step_type(name: str) -> type[StepType]:
    return STEP_TYPES[name]


def opts(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def choices() -> list[SelectChoice]:
    return opts((t.type, t.label) for t in STEP_TYPES.values())


from webapp.workflows.steps import builtin  # noqa: E402,F401
