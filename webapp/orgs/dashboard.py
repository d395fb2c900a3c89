"""Panels other domains add to the organization dashboard: ``panel(template, permission)(load)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webapp.core.access import can
from webapp.core.registry import put


@dataclass
class Panel:
    template: str
    permission: str
    load: Callable


PANELS: list[Panel] = []


def panel(template: str, permission: str = "view"):
    def decorator(load: Callable) -> Callable:
        # Re-registering (a second app in the same process) replaces the entry instead of doubling it.
        put(PANELS, Panel(template, permission, load), key=lambda p: p.template)
        return load

    return decorator


def panels_for(org) -> list[tuple[str, dict]]:
    return [(p.template, p.load(org)) for p in PANELS if can(p.permission)]


@dataclass
class NavItem:
    label: str
    endpoint: str
    permission: str
    order: int


NAV: list[NavItem] = []


def nav_item(label: str, endpoint: str, permission: str, order: int = 50) -> None:
    """A domain's entry in the organization sidebar, shown to roles that have ``permission``."""
    put(NAV, NavItem(label, endpoint, permission, order), key=lambda item: item.endpoint)


def nav_items(org) -> list[dict]:
    from flask import url_for

    return [
        {"label": item.label, "url": url_for(item.endpoint, slug=org.slug)}
        for item in sorted(NAV, key=lambda i: i.order)
        if can(item.permission)
    ]
