"""Rate budgets shared by every worker, kept in the database, planned in lanes.

Each process used to count its own calls; with N workers that is N times the platform's limit.
Here a budget key (platform + tenant) has a row that a worker locks to take a call: a sliding
window counts the calls of the last window (e.g. 150 per 5 minutes, or per minute), a
fixed window counts per period (e.g. a daily limit that resets at 00:00 UTC). A 429 or a spent
budget in the platform's headers blocks the key for everyone until the time the platform gave.

Every call is taken in a **lane** (see :class:`Lane`), set by the caller with
:func:`budget_lane` and read here at acquire time, so the provider contract does not change.
Payment checks may use the whole window; every lower lane stops earlier, so the top of each
window is always left for the lanes above it and a payment is seen within seconds however big
the backlog of sends and notes is.
"""

from __future__ import annotations

import contextvars
import enum
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.db import Database
from connector.models import RateBudgetRow, RateCall, utcnow
from providers.base import RateLimited


class Lane(enum.IntEnum):
    """Who may spend a tenant's API budget first (lower number first)."""

    PAYMENT_CHECK = 1  # webhook-requested syncs, just-in-time re-reads before a send
    SCHEDULED_SYNC = 2
    LEDGER_WRITE = 3  # the outbox: notes, payments, pauses
    # Sending new steps: the engine admits a send only while this lane has room for all the
    # calls it causes (re-reads, PDFs, notes, pauses; see connector.pacing). Those calls are
    # then made in the lanes above, so a send once admitted is not cut off half-way.
    SEND = 4


# Share of each window only payment checks may use, and the extra share each lower lane leaves
# to the lanes above it. At 140 a window: lane 1 up to 140, lane 2 up to 112,
# lane 3 up to 105, lane 4 up to 98.
PAYMENT_RESERVE = 0.20
LANE_STEP = 0.05

_lane: contextvars.ContextVar[Lane | None] = contextvars.ContextVar("budget_lane", default=None)


@contextmanager
def budget_lane(lane: Lane) -> Iterator[None]:
    """Spend the API calls made inside this block in ``lane``."""
    token = _lane.set(lane)
    try:
        yield
    finally:
        _lane.reset(token)


def current_lane() -> Lane | None:
    return _lane.get()


def ceiling(limit: int, lane: Lane | None) -> int:
    """How many calls of a window ``lane`` may see used before it must wait.

    Calls made outside any lane are a person waiting (connecting a ledger, a command): like
    payment checks they may use the whole window. Every background job sets its lane.
    """
    if lane is None or lane == Lane.PAYMENT_CHECK or limit <= 1:
        return limit
    reserve = max(1, math.ceil(limit * PAYMENT_RESERVE))
    step = max(1, math.ceil(limit * LANE_STEP)) if limit >= 20 else 0
    return max(1, limit - reserve - step * (lane - Lane.SCHEDULED_SYNC))


class DbRateBudget:
    """The same interface as providers.http.RateBudget, shared through the database.

    Payment checks and calls outside any lane sleep through short waits (up to ``max_wait``);
    the lower lanes raise :class:`RateLimited` at once with the moment their lane has room
    again, so no worker sits on a company's lease waiting for budget.
    """

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
        lane = current_lane()
        patient = lane in (None, Lane.PAYMENT_CHECK)
        while True:
            wait = self._try(key, lane)
            if wait <= 0:
                return
            if wait > self.max_wait or not patient:
                raise RateLimited(f"API-limiet bereikt (rij {int(lane or Lane.PAYMENT_CHECK)})",
                                  retry_at=utcnow() + timedelta(seconds=wait))
            time.sleep(max(wait, 0.01))

    def _try(self, key: str, lane: Lane | None = None, *, take: bool = True,
             need: int = 1) -> float:
        """Take a call and return 0, or return how many seconds until ``lane`` has room (for
        ``need`` calls, when only looking)."""
        full = f"{self.prefix}:{key}"
        now = utcnow()
        top = max(ceiling(self.limit, lane) - (need - 1), 1)
        with self.db.session() as session:
            row = self._row(session, key)
            if row.blocked_until and row.blocked_until > now:
                return (row.blocked_until - now).total_seconds()
            if self.sliding:
                since = now - self.window
                session.execute(delete(RateCall).where(RateCall.key == full, RateCall.at <= since))
                used = session.scalar(select(func.count()).select_from(RateCall).where(
                    RateCall.key == full)) or 0
                if used >= top:
                    # Room comes when enough of the oldest calls leave the window.
                    freeing = session.scalar(
                        select(RateCall.at).where(RateCall.key == full)
                        .order_by(RateCall.at).offset(used - top).limit(1))
                    return max((freeing + self.window - now).total_seconds(), 0.01)
                if take:
                    session.add(RateCall(key=full, at=now))
                return 0
            start = _window_start(now, self.window)
            if row.window_start != start:
                row.window_start, row.used = start, 0
            if row.used >= top:
                return (start + self.window - now).total_seconds()
            if take:
                row.used += 1
            return 0

    def room(self, key: str, lane: Lane) -> int:
        """How many calls ``lane`` may still make in the current window (0 while blocked)."""
        full = f"{self.prefix}:{key}"
        now = utcnow()
        with self.db.session() as session:
            row = session.get(RateBudgetRow, full)
            if row is not None and row.blocked_until and row.blocked_until > now:
                return 0
            if self.sliding:
                used = session.scalar(select(func.count()).select_from(RateCall).where(
                    RateCall.key == full, RateCall.at > now - self.window)) or 0
            elif row is None or row.window_start != _window_start(now, self.window):
                used = 0
            else:
                used = row.used
        return max(ceiling(self.limit, lane) - used, 0)

    def next_room_at(self, key: str, lane: Lane, need: int = 1) -> datetime:
        """When ``lane`` has room for ``need`` more calls (now, if it has)."""
        wait = self._try(key, lane, take=False, need=need)
        return utcnow() + timedelta(seconds=max(wait, 0))

    def per_window(self, lane: Lane) -> tuple[int, timedelta]:
        """How many calls ``lane`` gets per window, and the window."""
        return ceiling(self.limit, lane), self.window

    def block_until(self, key: str, at: datetime) -> None:
        with self.db.session() as session:
            row = self._row(session, key)
            if row.blocked_until is None or row.blocked_until < at:
                row.blocked_until = at


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
