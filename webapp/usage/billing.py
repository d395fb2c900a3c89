"""The billing run's source for metered usage: one line per priced metric above its allowance.

Registered as a batch source (``BILLING_RUN_BATCH_SOURCES``): one call per batch of accounts closes
the month and computes the lines for all of them with set-based queries.
"""

from __future__ import annotations

from webapp.usage.services import metered_lines, metered_lines_for_orgs


def metered_usage_source(account, period_start, period_end) -> list:
    """One account's metered lines (kept for callers billing a single account)."""
    from webapp.billing.services import LineSpec

    return [LineSpec(**line) for line in metered_lines(account.organization_id, period_start, period_end)]


def metered_usage_batch_source(accounts, period_start, period_end) -> dict:
    """``{account_id: [LineSpec, ...]}`` for a batch of accounts."""
    from webapp.billing.services import LineSpec

    by_org = metered_lines_for_orgs([a.organization_id for a in accounts], period_start, period_end)
    result = {}
    for account in accounts:
        found = by_org.get(account.organization_id)
        if found:
            result[account.id] = [LineSpec(**line) for line in found]
    return result


def register() -> None:
    """Metered usage joins the billing run as one batch source (one query per batch of accounts)."""
    from webapp.billing.services import BILLING_RUN_BATCH_SOURCES
    from webapp.core.registry import add_once

    add_once(BILLING_RUN_BATCH_SOURCES, metered_usage_batch_source)
