"""Calendar arithmetic for billing periods (UTC)."""

from __future__ import annotations

import calendar
from datetime import datetime

from webapp.subscriptions.models import YEARLY


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(start: datetime, interval: str) -> datetime:
    return add_months(start, 12 if interval == YEARLY else 1)


def whole_days(start: datetime, end: datetime) -> int:
    return max(0, (end.date() - start.date()).days)
