"""Rate budgets shared by every worker, kept in the database.

Each process used to count its own calls; with N workers that is N times the platform's limit.
Here a budget key (platform + tenant) has a row that a worker locks to take a call: a sliding
window counts the calls of the last window (Moneybird: 150 per 5 minutes; Exact: per minute), a
fixed window counts per period (Exact's daily limit resets at 00:00 UTC). A 429 or a spent
budget in the platform's headers blocks the key for everyone until the time the platform gave.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.db import Database
from connector.models import RateBudgetRow, RateCall, utcnow
from providers.base import RateLimited


class DbRateBudget:
    """The same interface as providers.http.RateBudget, shared through the database."""

    def __init__(self, db: Database, prefix: str, limit: int, window_seconds: float, *,
                 sliding: bool = True, max_wait: float = 10.0) -> None:
        self.db = db
        self.prefix = prefix
        self.limit = limit
        self.window = timedelta(seconds=window_seconds)
        self.sliding = sliding
        self.max_wait = max_wait

    def _row(self, session: Session, key: str) -> RateBudgetRow:
        """The budget's row, locked; created on first use (two workers may race to do that)."""
        full = f"{self.prefix}:{key}"
        locked = select(RateBudgetRow).where(RateBudgetRow.key == full).with_for_update()
        row = session.execute(locked).scalar_one_or_none()
        if row is None:
            try:
                with session.begin_nested():
                    session.add(RateBudgetRow(key=full, used=0))
            except IntegrityError:
                pass  # another worker created it first
            row = session.execute(locked).scalar_one()
        return row

    def acquire(self, key: str) -> None:
        while True:
            wait = self._try(key)
            if wait <= 0:
                return
            if wait > self.max_wait:
                raise RateLimited("shared rate budget used up",
                                  retry_at=utcnow() + timedelta(seconds=wait))
            time.sleep(max(wait, 0.01))

    def _try(self, key: str) -> float:
        """Take a call and return 0, or return how many seconds to wait."""
        full = f"{self.prefix}:{key}"
        now = utcnow()
        with self.db.session() as session:
            row = self._row(session, key)
            if row.blocked_until and row.blocked_until > now:
                return (row.blocked_until - now).total_seconds()
            if self.sliding:
                since = now - self.window
                session.execute(delete(RateCall).where(RateCall.key == full, RateCall.at <= since))
                used = session.scalar(select(func.count()).select_from(RateCall).where(
                    RateCall.key == full)) or 0
                if used >= self.limit:
                    oldest = session.scalar(select(func.min(RateCall.at)).where(
                        RateCall.key == full))
                    return max((oldest + self.window - now).total_seconds(), 0.01)
                session.add(RateCall(key=full, at=now))
                return 0
            start = _window_start(now, self.window)
            if row.window_start != start:
                row.window_start, row.used = start, 0
            if row.used >= self.limit:
                return (start + self.window - now).total_seconds()
            row.used += 1
            return 0

    def block_until(self, key: str, at: datetime) -> None:
        with self.db.session() as session:
            row = self._row(session, key)
            if row.blocked_until is None or row.blocked_until < at:
                row.blocked_until = at


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
