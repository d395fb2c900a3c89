"""``{{ }}`` placeholders and condition expressions, evaluated in Jinja's sandbox.

A workflow's author is a customer, so templates must not reach Python internals: the sandboxed
environment refuses attribute access to private members and unsafe callables, and undefined names
fail loudly (a step that silently sends an empty value is worse than one that says which name is missing).
"""

from __future__ import annotations

import functools
import json

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

MAX_TEMPLATE = 20_000
MAX_OUTPUT = 262_144  # characters one placeholder text may render to (a step's URL, header or body)


class _CappedEnvironment(SandboxedEnvironment):
    """Refuses ``*`` and ``**`` that would build a value past the output cap before it exists."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int)
                if sized and len(seq) * times > MAX_OUTPUT:
                    raise TemplateProblem(f"The template output would be longer than {MAX_OUTPUT} characters.")
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise TemplateProblem("The exponent is too large.")
        return super().call_binop(context, operator, left, right)


_env = _CappedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_env.filters["json"] = lambda value: json.dumps(value, default=str)


# A run renders the same step settings as every run before it: compile each text once per process
# (compiling is most of a condition step's time). Compiled templates are immutable and thread-safe;
# a text that does not compile raises each time (exceptions are not cached).
@functools.lru_cache(maxsize=1024)
def _template(text: str):
    return _env.from_string(text)


@functools.lru_cache(maxsize=1024)
def _expression(expression: str):
    return _env.compile_expression(expression)


class TemplateProblem(ValueError):
    """A placeholder or expression could not be evaluated; the message names what went wrong."""


def render_text(text: str, scope: dict) -> str:
    if not text or ("{{" not in text and "{%" not in text):
        return text or ""
    if len(text) > MAX_TEMPLATE:
        raise TemplateProblem("The template is too long.")
    try:
        parts, size = [], 0
        for piece in _template(text).generate(**scope):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise TemplateProblem(f"The template output is longer than {MAX_OUTPUT} characters.")
            parts.append(piece)
        return "".join(parts)
    except TemplateError as error:
        raise TemplateProblem(f"Template error: {error.message or error}") from None


def check_syntax(text: str) -> str | None:
    """None when the template parses; otherwise a readable message."""
    try:
        _env.parse(text or "")
    except TemplateError as error:
        return f"Template error: {error.message or error}"
    return None


def evaluate(expression: str, scope: dict) -> bool:
    try:
        return bool(_expression(expression)(**scope))
    except TemplateError as error:
        raise TemplateProblem(f"Expression error: {error.message or error}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise TemplateProblem(f"Expression error: {error}") from None


def check_expression(expression: str) -> str | None:
    try:
        _env.compile_expression(expression)
    except TemplateError as error:
        return f"Expression error: {error.message or error}"
    return None
