"""The billing run's source for metered usage: one line per priced metric above its allowance."""

from __future__ import annotations

import importlib

from webapp.usage.services import metered_lines


def metered_usage_source(account, period_start, period_end) -> list:
    from webapp.billing.services import LineSpec

    return [LineSpec(**line) for line in metered_lines(account.organization_id, period_start, period_end)]


def register() -> bool:
    for name in (
        "webapp.billing.services",
        "webapp.billing.services.invoices",
        "webapp.billing.runs",
        "webapp.billing.services.runs",
    ):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        sources = getattr(module, "BILLING_RUN_SOURCES", None)
        if sources is not None:
            if metered_usage_source not in sources:
                sources.append(metered_usage_source)
            return True
    return False
