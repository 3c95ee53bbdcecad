"""One reaction table for ledger errors: what the sync, the outbox, the token store, the engine
and the stamp step do when a ledger call fails.

Each kind of :class:`providers.base.LedgerError` (and an unexpected exception) gets one row:

============================  ================  ========  ==========  =======================
error                         history word      waits     counts as   grant
                                                          a failure
============================  ================  ========  ==========  =======================
ReconnectRequired (+ scope)   reconnect_needed  reconnect yes         marked; creditor told
RateLimited                   rate_limited      platform  no          -
Transient (ambiguous or not)  error             backoff   yes         -
RefreshTooEarly               error             backoff   yes         -
Rejected                      rejected          never     yes         -
any other exception           error             backoff   yes         -
============================  ================  ========  ==========  =======================

*platform*: until ``RateLimited.retry_at`` (the platform's limit is the pace, not a failure).
*backoff*: :func:`backoff`, one formula for everything, from ``settings.retry_base_seconds``.
*reconnect*: nothing works until the creditor connects again; whoever finds the dead grant
marks it and e-mails the creditor (:func:`connector.notify.report_dead_grant`, once per
grant, however many syncs, writes or sends run into it). *never*: a bug or bad data; the
same request is never retried (a sync goes back to its schedule, a write fails for an
operator to look at).

An ambiguous :class:`Transient` (a write whose answer was lost) is retried like any transient
error, but only after the ledger was read for the write's key (the outbox's ``maybe_done``), and
a message to a debtor after such a loss is never retried at all (the engine's ``ambiguous``).

The table is plain data with no connector imports, so any layer can read it; the one action
it asks for (marking a grant, telling the creditor) lives in :mod:`connector.notify`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from providers.base import (
    LedgerError,
    RateLimited,
    ReconnectRequired,
    RefreshTooEarly,
    Rejected,
    Transient,
)

MAX_BACKOFF = timedelta(hours=1)
# How often work for a company whose grant is dead looks again (the creditor may reconnect).
WAIT_FOR_RECONNECT = timedelta(minutes=15)
# A sync costs several calls and re-reads what a write would not: it waits this many times
# the write's backoff (``retry_base_seconds`` is the first backoff of a write).
SYNC_BACKOFF_SCALE = 4


class Wait(enum.StrEnum):
    PLATFORM = "platform"  # until RateLimited.retry_at
    BACKOFF = "backoff"  # the one backoff formula, longer with every failure
    RECONNECT = "reconnect"  # until the creditor connects again
    NEVER = "never"  # given up: the same request is not retried


@dataclass(frozen=True)
class Reaction:
    """One row of the table."""

    outcome: str  # the word in the sync history and events
    wait: Wait
    counts_as_failure: bool  # raises the backoff of the next failure
    reconnect: bool = False  # mark the grant as needing a reconnect and tell the creditor

    @property
    def gives_up(self) -> bool:
        return self.wait == Wait.NEVER


RECONNECT = Reaction("reconnect_needed", Wait.RECONNECT, True, reconnect=True)
RATE_LIMITED = Reaction("rate_limited", Wait.PLATFORM, False)
TRANSIENT = Reaction("error", Wait.BACKOFF, True)
TOO_EARLY = Reaction("error", Wait.BACKOFF, True)
REJECTED = Reaction("rejected", Wait.NEVER, True)
UNEXPECTED = Reaction("error", Wait.BACKOFF, True)

#: First match wins; the last row catches what no ledger should raise (our own bugs included).
TABLE: tuple[tuple[type[BaseException], Reaction], ...] = (
    (ReconnectRequired, RECONNECT),
    (RateLimited, RATE_LIMITED),
    (RefreshTooEarly, TOO_EARLY),
    (Transient, TRANSIENT),
    (Rejected, REJECTED),
    (Exception, UNEXPECTED),
)


def reaction_for(exc: BaseException) -> Reaction:
    for kind, reaction in TABLE:
        if isinstance(exc, kind):
            return reaction
    return UNEXPECTED


def backoff(failures: int, base_seconds: float, *, scale: int = 1) -> timedelta:
    """The wait after the ``failures``-th failure in a row: doubling from the base, capped."""
    first = timedelta(seconds=base_seconds * scale)
    return min(first * 2 ** min(max(failures, 1) - 1, 16), MAX_BACKOFF)


def retry_at(exc: BaseException, *, failures: int, base_seconds: float, now: datetime,
             scale: int = 1) -> datetime | None:
    """When the work that failed with ``exc`` may run again; None: not without a person."""
    reaction = reaction_for(exc)
    if reaction.wait == Wait.PLATFORM and isinstance(exc, RateLimited):
        return exc.retry_at
    if reaction.wait == Wait.RECONNECT:
        return now + WAIT_FOR_RECONNECT
    if reaction.wait == Wait.NEVER:
        return None
    return now + backoff(failures, base_seconds, scale=scale)


def describe(exc: BaseException) -> str:
    """A short, safe description: a ledger error's own message (never holds a token or
    debtor data), only the type of anything else (its message might)."""
    if isinstance(exc, LedgerError):
        return str(exc)[:300]
    return f"interne fout ({type(exc).__name__})"
