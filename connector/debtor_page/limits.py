"""Rate limits on the debtor's page, per token and per client address.

Counted as rows in ``rate_calls`` (like the operator sign-in limits), so every web process sees
the same numbers. Keys hold hashes only: the table must not become a list of tokens or of the
addresses debtors came from. A client that tried too many unknown tokens is stopped for every
token, which makes guessing useless long before it could find one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from connector.db import Database
from connector.models import RateCall, utcnow


@dataclass(frozen=True)
class Limits:
    window: timedelta = timedelta(minutes=10)
    per_client: int = 120  # page views and answers from one address
    misses_per_client: int = 10  # unknown or expired tokens from one address
    per_token: int = 60  # views and answers on one link, from anywhere
    posts_per_token: int = 12  # answers (and corrections) on one link


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]


def _count(session, key: str, since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(RateCall)
                          .where(RateCall.key == key, RateCall.at > since)) or 0


def allowed(db: Database, limits: Limits, *, client: str, token: str, post: bool,
            now: datetime | None = None) -> bool:
    """Count this request and say whether it may be answered."""
    now = now or utcnow()
    since = now - limits.window
    client_key = f"debtor:client:{_digest(client)}"
    miss_key = f"debtor:miss:{_digest(client)}"
    token_key = f"debtor:token:{_digest(token)}"
    post_key = f"debtor:post:{_digest(token)}"
    with db.session() as session:
        over = (_count(session, client_key, since) >= limits.per_client
                or _count(session, miss_key, since) >= limits.misses_per_client
                or _count(session, token_key, since) >= limits.per_token
                or (post and _count(session, post_key, since) >= limits.posts_per_token))
        session.add(RateCall(key=client_key, at=now))
        session.add(RateCall(key=token_key, at=now))
        if post:
            session.add(RateCall(key=post_key, at=now))
        session.execute(delete(RateCall).where(RateCall.key.like("debtor:%"),
                                               RateCall.at <= now - limits.window * 6))
    return not over


def record_miss(db: Database, client: str, now: datetime | None = None) -> None:
    """An unknown or expired token from this client."""
    with db.session() as session:
        session.add(RateCall(key=f"debtor:miss:{_digest(client)}", at=now or utcnow()))
