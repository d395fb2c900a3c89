"""Registries that ``init_app`` fills: one rule for adding to them more than once.

``create_app`` runs every domain's ``init_app`` again for each app it builds (the tests build many),
so a registration must be idempotent: the same hook is listed once, and an entry declared again under
the same key (a sidebar endpoint, a panel template) replaces the earlier one where it stood.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


def add_once(registry: list[T], item: T) -> T:
    """Append ``item`` unless it is already listed (a billing-run source, an organization hook)."""
    if item not in registry:
        registry.append(item)
    return item


def put(registry: list[T], item: T, key: Callable[[T], Hashable]) -> T:
    """Replace the entry with ``item``'s key in place, else append ``item`` (one entry per key)."""
    wanted = key(item)
    for index, existing in enumerate(registry):
        if key(existing) == wanted:
            registry[index] = item
            return item
    registry.append(item)
    return item
