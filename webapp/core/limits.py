"""Plan limits, checked where they bite. The subscriptions domain registers the checker.

``check(org, "users", adding=1)`` raises ``LimitExceeded`` naming the limit; with no checker
registered (or no plan) nothing is limited.
"""

from __future__ import annotations

from collections.abc import Callable

_checkers: list[Callable] = []


def register(checker: Callable) -> Callable:
    _checkers.append(checker)
    return checker


def check(org, limit: str, adding: int = 1) -> None:
    for checker in _checkers:
        checker(org, limit, adding)
