"""Changing a setting: parsed by its type, stored, audited."""

from __future__ import annotations

from sqlalchemy import select

from webapp.audit import record
from webapp.extensions import db
from webapp.settings.models import SystemSetting
from webapp.settings.registry import DEFINITIONS, forget_cache


def update_setting(key: str, text: str, actor) -> SystemSetting:
    definition = DEFINITIONS[key]
    value = definition.parse(text)
    row = db.session.scalar(select(SystemSetting).where(SystemSetting.key == key))
    old = row.value if row else definition.dump(definition.default)
    if row is None:
        row = SystemSetting(key=key, value="")
        db.session.add(row)
    row.value = definition.dump(value)
    row.updated_by_id = getattr(actor, "id", None)
    forget_cache()
    record(actor, "setting.updated", row, {"key": key, "old": old, "new": row.value})
    return row
