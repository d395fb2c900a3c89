"""Demo data: each domain adds a step in its ``demo.py``; ``flask seed demo`` runs them in order.

Every step is idempotent: it looks for what it would create before creating it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

STEPS: list[tuple[int, str, Callable]] = []
DEMO_PASSWORD = "tessera-demo-1"


def seeded(row: T | None, what: str) -> T:
    """A row an earlier demo step made (a user, a template, a plan): there, or the demo stops naming it."""
    if row is None:
        raise LookupError(f"the demo data lacks {what}: did an earlier step fail?")
    return row


def step(order: int):
    def decorator(func: Callable) -> Callable:
        STEPS.append((order, func.__module__, func))
        return func

    return decorator


def run_all(log=print) -> None:
    from webapp import DOMAINS
    from webapp.extensions import db
    from webapp.jobs import drain_inline

    for name in DOMAINS:
        module = f"webapp.{name}.demo"
        if importlib.util.find_spec(module) is not None:  # not every domain has demo data
            importlib.import_module(module)
    for _order, module, func in sorted(STEPS, key=lambda s: s[0]):
        log(f"demo: {module}.{func.__name__}")
        func()
        db.session.commit()
        drain_inline()
