"""Losing a race on purpose: the request's commit fails as a concurrent transaction's would
(serialization failure, SQLSTATE 40001), so a test can prove what a concurrency loser is answered."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError


class SerializationFailure(Exception):
    sqlstate = "40001"


def lose_commits(monkeypatch, times: int = 1) -> list:
    """The next ``times`` commits made by ``perform`` lose a race; returns the list of losses so far."""
    from webapp.core import transaction

    real, lost = transaction._commit, []

    def commit():
        if len(lost) < times:
            lost.append(True)
            raise OperationalError("COMMIT", {}, SerializationFailure("could not serialize access"))
        real()

    monkeypatch.setattr(transaction, "_commit", commit)
    return lost
