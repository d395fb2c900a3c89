"""Offset pages for short lists, keyset pages for large tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from webapp.extensions import db


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select, page: int, per_page: int = 25, *, rows: bool = False) -> Page:
    """One page of ``stmt`` plus the total. ``rows=True`` keeps every selected column (a model and
    its counts, say) instead of the first one. A page past the end shows the last page."""
    per_page = max(1, per_page)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = max(1, min(page, -(-total // per_page) or 1))
    limited = stmt.limit(per_page).offset((page - 1) * per_page)
    items = [tuple(r) for r in db.session.execute(limited)] if rows else list(db.session.scalars(limited))
    return Page(items, page, per_page, total)


def page_arg(value: str | None) -> int:
    """``?page=`` as a positive int (ASCII digits); nonsense reads as the first page rather than an error."""
    from webapp.core.parsing import int_or_none

    return int_or_none(value, minimum=1) or 1


@dataclass
class KeysetPage:
    items: list
    next_cursor: int | None
    per_page: int


def keyset(stmt: Select, id_column, before: int | None, per_page: int = 50) -> KeysetPage:
    """Newest first, by id: the next page starts below the last id shown (no OFFSET, no COUNT, so the
    thousandth page costs what the first does)."""
    if before:
        stmt = stmt.where(id_column < before)
    rows = list(db.session.scalars(stmt.order_by(id_column.desc()).limit(per_page + 1)))
    next_cursor = rows[per_page - 1].id if len(rows) > per_page else None
    return KeysetPage(rows[:per_page], next_cursor, per_page)
