"""Operator sign-in attempts are limited, per e-mail address and per client address.

Failures are kept as rows in ``rate_calls`` (the table the API budgets use), so every web
process sees the same count. An address that failed too often in the window waits until its
oldest failure leaves the window; the same answer is given whether the e-mail exists or not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from connector.db import Database
from connector.models import RateCall, utcnow

WINDOW = timedelta(minutes=15)
MAX_PER_EMAIL = 5
MAX_PER_CLIENT = 20


def _keys(email: str, client: str) -> tuple[str, str]:
    # Hashed: the table must not become a list of who tried to sign in.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login:email:{digest}", f"login:client:{client}"


def locked_for(db: Database, email: str, client: str, now: datetime | None = None
               ) -> timedelta | None:
    """How long this e-mail or client must wait before trying again; None when it may try."""
    now = now or utcnow()
    waits = []
    with db.session() as session:
        for key, limit in zip(_keys(email, client), (MAX_PER_EMAIL, MAX_PER_CLIENT), strict=True):
            count, oldest = session.execute(
                select(func.count(), func.min(RateCall.at))
                .where(RateCall.key == key, RateCall.at > now - WINDOW)).one()
            if count >= limit:
                waits.append(oldest + WINDOW - now)
    return max(waits) if waits else None


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt counted before its password check: ``wait`` is set when it may not go
    on; ``row_ids`` are its own rows (forgiven, with the e-mail's, when it succeeds)."""

    wait: timedelta | None
    row_ids: tuple[int, ...] = ()


def reserve_attempt(db: Database, email: str, client: str, now: datetime | None = None
                    ) -> Attempt:
    """Count this attempt first, then check: an :class:`Attempt` whose ``wait`` is None when it
    may go on to the password check, else how long to wait (and the attempt is not counted).

    The attempt's rows are committed before counting, so of any number of simultaneous guesses
    at most the limit see a count within it (the last one to commit sees all the others).
    A failed check leaves the rows standing as failures; a success clears the e-mail's rows.
    """
    now = now or utcnow()
    keys = _keys(email, client)
    with db.session() as session:
        mine = [RateCall(key=key, at=now) for key in keys]
        session.add_all(mine)
        session.flush()
        ids = [row.id for row in mine]
    waits = []
    with db.session() as session:
        for key, limit in zip(keys, (MAX_PER_EMAIL, MAX_PER_CLIENT), strict=True):
            count, oldest = session.execute(
                select(func.count(), func.min(RateCall.at))
                .where(RateCall.key == key, RateCall.at > now - WINDOW)).one()
            if count > limit:
                waits.append(max(oldest + WINDOW - now, timedelta(seconds=1)))
        if waits:
            session.execute(delete(RateCall).where(RateCall.id.in_(ids)))
            return Attempt(max(waits))
    return Attempt(None, tuple(ids))


def record_failure(db: Database, email: str, client: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    with db.session() as session:
        for key in _keys(email, client):
            session.add(RateCall(key=key, at=now))
        # Old failures are of no use any more; keep the table small.
        session.execute(delete(RateCall).where(RateCall.key.like("login:%"),
                                               RateCall.at <= now - WINDOW))


def purge_expired(db: Database, now: datetime | None = None) -> None:
    """Old failures are of no use any more; keep the table small."""
    now = now or utcnow()
    with db.session() as session:
        session.execute(delete(RateCall).where(RateCall.key.like("login:%"),
                                               RateCall.at <= now - WINDOW))


def clear(db: Database, email: str, attempt: Attempt | None = None) -> None:
    """A successful sign-in forgives the e-mail's earlier failures (not the client's) and does
    not count itself."""
    email_key, _ = _keys(email, "")
    with db.session() as session:
        session.execute(delete(RateCall).where(RateCall.key == email_key))
        if attempt is not None and attempt.row_ids:
            session.execute(delete(RateCall).where(RateCall.id.in_(attempt.row_ids)))
