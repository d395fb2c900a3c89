"""Changing a setting: parsed by its type, stored, audited."""

from __future__ import annotations

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import NotFound
from webapp.extensions import db
from webapp.settings.models import SystemSetting
from webapp.settings.registry import DEFINITIONS, forget_cache, get


def update_setting(key: str, text: str, actor) -> SystemSetting:
    definition = DEFINITIONS.get(key)
    if definition is None:
        raise NotFound("There is no such setting.")
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


def settings_overview() -> list[dict]:
    """Every defined setting with its type, default and current value (stored or default)."""
    rows = {row.key: row for row in db.session.scalars(select(SystemSetting))}
    overview = []
    for key in sorted(DEFINITIONS):
        definition = DEFINITIONS[key]
        row = rows.get(key)
        overview.append(
            {
                "key": key,
                "definition": definition,
                "type": definition.type.__name__,
                "default": definition.dump(definition.default),
                "current": definition.dump(get(key)),
                "row": row,
                "is_default": row is None,
            }
        )
    return overview


def reset_setting(key: str, actor) -> None:
    """Back to the declared default: the stored row goes, the change is audited."""
    definition = DEFINITIONS.get(key)
    if definition is None:
        raise NotFound("There is no such setting.")
    row = db.session.scalar(select(SystemSetting).where(SystemSetting.key == key))
    if row is None:
        return
    old = row.value
    db.session.delete(row)
    db.session.flush()
    forget_cache()
    record(actor, "setting.reset", None, {"key": key, "old": old, "new": definition.dump(definition.default)})
