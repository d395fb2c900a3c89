"""Typed settings with defaults, declared by the domain that uses them.

``define("billing.net_terms_days", int, 14, "Days between issue and due date")`` at import time;
``get("billing.net_terms_days")`` reads the stored value or the default, cached per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select

from webapp.core.errors import DomainError
from webapp.extensions import db

_UNIT_SUFFIXES = {
    "_months": "months",
    "_days": "days",
    "_hours": "hours",
    "_minutes": "minutes",
    "_seconds": "seconds",
    "_bps": "basis points",
    "_cents": "cents",
    "_mb": "MB",
    "_ms": "ms",
    "_per_hour": "per hour",
    "_per_day": "per day",
    "_bytes": "bytes",
    "_pct": "%",
}


@dataclass(frozen=True)
class Definition:
    key: str
    type: type
    default: Any
    description: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] | None = None
    # The name a person reads ("Net terms (days)"); derived from the key when not given.
    label: str | None = None
    max_length: int | None = None
    # check(value) -> an error sentence, or None when the value is fine.
    check: Callable[[Any], str | None] | None = None

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        from webapp.core.display import label

        name = self.key.split(".", 1)[-1]
        for suffix, unit in _UNIT_SUFFIXES.items():
            if name.endswith(suffix) and name != suffix.lstrip("_"):
                return f"{label(name.removesuffix(suffix))} ({unit})"
        return label(name)

    @property
    def area(self) -> str:
        from webapp.core.display import label

        return label(self.key.split(".", 1)[0]) if "." in self.key else ""

    def parse(self, text: str) -> Any:
        value = self._parse(text)
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            raise DomainError(f"{self.title}: keep it under {self.max_length} characters", field=self.key)
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise DomainError(f"{self.title}: {problem}", field=self.key)
        return value

    def _parse(self, text: str) -> Any:
        text = (text or "").strip()
        if self.type is bool:
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise DomainError(f"{self.title}: enter true or false", field=self.key)
        if self.type is int:
            try:
                value = int(text)
            except ValueError:
                raise DomainError(f"{self.title}: enter a whole number", field=self.key) from None
            if self.minimum is not None and value < self.minimum:
                raise DomainError(f"{self.title}: must be at least {self.minimum}", field=self.key)
            if self.maximum is not None and value > self.maximum:
                raise DomainError(f"{self.title}: must be at most {self.maximum}", field=self.key)
            return value
        if self.type is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        if self.choices and text not in self.choices:
            raise DomainError(f"{self.title}: choose one of {', '.join(self.choices)}", field=self.key)
        return text

    def dump(self, value: Any) -> str:
        if self.type is list:
            return ", ".join(value)
        if self.type is bool:
            return "true" if value else "false"
        return str(value)


DEFINITIONS: dict[str, Definition] = {}


def define(key: str, type_: type, default: Any, description: str, **limits) -> Definition:
    definition = Definition(key, type_, default, description, **limits)
    DEFINITIONS[key] = definition
    return definition


def _stored() -> dict[str, str]:
    if has_app_context() and "tessera_settings" in g:
        return g.tessera_settings
    from webapp.settings.models import SystemSetting

    values = {row.key: row.value for row in db.session.scalars(select(SystemSetting))}
    if has_app_context():
        g.tessera_settings = values
    return values


def get(key: str) -> Any:
    definition = DEFINITIONS[key]
    raw = _stored().get(key)
    if raw is None:
        return definition.default
    try:
        return definition.parse(raw)
    except DomainError:
        return definition.default


def forget_cache() -> None:
    if has_app_context():
        g.pop("tessera_settings", None)
