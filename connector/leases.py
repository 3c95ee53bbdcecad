"""Who works on which company: leases in the database, so workers never overlap.

A worker claims due companies with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
serves one worker and ignores the clause), writes itself in as ``lease_owner`` until
``lease_expires_at`` and commits. Leases are renewed while work goes on and released after;
a crashed worker's leases simply run out and another worker takes the companies over.

Jobs that exactly one worker must run (the bounce listener) are held the same way through a
named row in ``job_leases``. Heartbeats say which workers live: a clean stop removes its row and
a row older than :data:`HEARTBEAT_STALE` no longer counts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from connector import events
from connector.models import Company, Connection, JobLease, SyncRun, WorkerHeartbeat, utcnow
from connector.services import Services

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(seconds=120)
HEARTBEAT_SECONDS = 10.0
# A worker that has not beaten for three intervals is gone (killed, machine away).
HEARTBEAT_STALE = timedelta(seconds=3 * HEARTBEAT_SECONDS)
# Rows of workers that died without a clean stop are deleted after this.
HEARTBEAT_FORGET = timedelta(days=1)


class LeaseLost(Exception):
    """This worker no longer holds the company's lease: another may work on it now."""


class LeaseHeld(Exception):
    """Another worker holds the company's lease right now."""

    def __init__(self, company_id: str, owner: str) -> None:
        super().__init__(f"company {company_id} is being worked on by {owner}")
        self.company_id, self.owner = company_id, owner


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim(
    services: Services,
    worker: str,
    *,
    limit: int = 10,
    sync_due_only: bool = True,
    ttl: timedelta = DEFAULT_TTL,
    exclude: set[str] | None = None,
) -> list[str]:
    """Lease up to ``limit`` connected companies that are free (and, by default, due a sync).

    Each lease is taken by a compare-and-set (``UPDATE … WHERE still free``), not by writing
    over what a read found: SQLite reads outside any transaction, so two claims (the sync and
    the engine job of one worker) could both find a company free and both "take" it, and two
    syncs of one company then collided on its debtors.
    """
    now = utcnow()
    claimed = []
    with services.db.session() as session:
        for company_id, previous in _candidates(session, now, limit=limit,
                                                 sync_due_only=sync_due_only, exclude=exclude):
            taken = session.execute(update(Company).where(
                Company.id == company_id, _free(now),
            ).values(lease_owner=worker, lease_expires_at=now + ttl)
             .returning(Company.id)).first()
            if taken is None:
                continue  # another claim took it between our read and now
            if previous is not None:
                events.record(session, "lease.takeover",
                              "Werk overgenomen van een worker die niet meer reageerde",
                              company_id=company_id, actor=f"worker:{worker}", previous=previous)
                # Its sync will never finish: say so, instead of "running" forever.
                session.execute(update(SyncRun).where(
                    SyncRun.company_id == company_id, SyncRun.outcome == "running",
                ).values(outcome="interrupted", finished_at=now,
                         error="worker stopped during the sync"))
            claimed.append(company_id)
    return claimed


def _free(now: datetime) -> ColumnElement[bool]:
    """A company nobody holds: no lease, or one that ran out (also this worker's own: another
    job of the same worker has it while it runs)."""
    return or_(Company.lease_expires_at.is_(None), Company.lease_expires_at < now)


def _candidates(session: Session, now: datetime, *, limit: int, sync_due_only: bool,
                exclude: set[str] | None) -> list[tuple[str, str | None]]:
    """(id, previous owner) of free companies, the ones a payment check waits for first.

    On PostgreSQL the rows stay locked (``SKIP LOCKED``) until the claim commits; SQLite
    ignores the clause, which is why :func:`claim` takes each one by compare-and-set.
    """
    query = (
        select(Company.id, Company.lease_owner)
        .join(Connection, Connection.company_id == Company.id)
        .where(Connection.disconnected_at.is_(None), _free(now))
        .order_by(Company.sync_requested_at.desc().nulls_last(), Company.next_sync_at)
        .limit(limit)
        .with_for_update(of=Company, skip_locked=True)
    )
    if exclude:
        query = query.where(Company.id.not_in(list(exclude)))
    if sync_due_only:
        query = query.where(or_(Company.sync_requested_at.is_not(None),
                                Company.next_sync_at.is_(None), Company.next_sync_at <= now))
    return [(row[0], row[1]) for row in session.execute(query)]


def renew(services: Services, worker: str, company_ids: list[str],
          ttl: timedelta = DEFAULT_TTL) -> set[str]:
    """Extend this worker's leases; returns the ids it still holds (a lapsed one is gone)."""
    if not company_ids:
        return set()
    now = utcnow()
    with services.db.session() as session:
        held = set(session.scalars(
            update(Company).where(
                Company.id.in_(company_ids), Company.lease_owner == worker,
                Company.lease_expires_at >= now,
            ).values(lease_expires_at=now + ttl).returning(Company.id)))
    return held


def release(services: Services, worker: str, company_id: str) -> None:
    with services.db.session() as session:
        session.execute(update(Company).where(
            and_(Company.id == company_id, Company.lease_owner == worker),
        ).values(lease_owner=None, lease_expires_at=None))


def assert_held(session: Session, company_id: str, worker: str | None) -> None:
    """Lock the company row and raise :class:`LeaseLost` unless ``worker`` still holds it.

    Called inside every transaction that commits sync progress, so a worker whose lease was
    taken over (or handed back at a stop timeout: the owner is then empty) can never overwrite
    what the new holder did. ``worker`` None is a caller running without a lease: allowed.
    """
    if worker is None:
        return
    owner = session.execute(
        select(Company.lease_owner).where(Company.id == company_id).with_for_update()
    ).scalar_one_or_none()
    if owner != worker:
        raise LeaseLost(f"company {company_id} is no longer leased by this worker")


def claim_company(services: Services, worker: str, company_id: str,
                  ttl: timedelta = DEFAULT_TTL) -> None:
    """Lease one named company (``connector sync``); raises :class:`LeaseHeld` when taken.

    A compare-and-set, like :func:`claim`: the lease is written only while it is still free
    or already this worker's.
    """
    now = utcnow()
    with services.db.session() as session:
        taken = session.execute(update(Company).where(
            Company.id == company_id, or_(_free(now), Company.lease_owner == worker),
        ).values(lease_owner=worker, lease_expires_at=now + ttl).returning(Company.id)).first()
        if taken is None:
            owner = session.scalar(select(Company.lease_owner).where(Company.id == company_id))
            if owner is None:
                raise LookupError(f"no company {company_id}")
            raise LeaseHeld(company_id, owner)


def interrupt_and_release(services: Services, worker: str, company_ids: list[str]) -> None:
    """Give up companies whose work did not end in time: their running sync is recorded as
    interrupted in the same transaction that frees the lease (see :func:`assert_held`)."""
    now = utcnow()
    for company_id in company_ids:
        with services.db.session() as session:
            released = session.execute(update(Company).where(
                Company.id == company_id, Company.lease_owner == worker,
            ).values(lease_owner=None, lease_expires_at=None).returning(Company.id)).first()
            if released is None:
                continue  # already taken over; the new holder closed our run
            session.execute(update(SyncRun).where(
                SyncRun.company_id == company_id, SyncRun.worker == worker,
                SyncRun.outcome == "running",
            ).values(outcome="interrupted", finished_at=now,
                     error="worker stopped during the sync"))


class Renewer:
    """A thread that renews a set of leases until told to stop (``connector sync``)."""

    def __init__(self, services: Services, worker: str, company_ids: set[str],
                 ttl: timedelta = DEFAULT_TTL) -> None:
        self.services, self.worker, self.ttl = services, worker, ttl
        self.company_ids = company_ids
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-renewer", daemon=True)

    def _run(self) -> None:
        interval = max(self.ttl.total_seconds() / 3, 0.5)
        while not self._stop.wait(interval):
            try:
                renew(self.services, self.worker, list(self.company_ids), self.ttl)
            except Exception:  # the database may be away for a moment: try again
                log.exception("lease renewal failed")

    def start(self) -> Renewer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@contextmanager
def holding(services: Services, worker: str, company_id: str,
            ttl: timedelta = DEFAULT_TTL) -> Iterator[None]:
    """Hold one company's lease (renewed in the background) for the duration of the block."""
    claim_company(services, worker, company_id, ttl)
    renewer = Renewer(services, worker, {company_id}, ttl).start()
    try:
        yield
    finally:
        renewer.stop()
        release(services, worker, company_id)


def claim_job(services: Services, name: str, worker: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take or renew the named job lease; True while this worker holds it."""
    now = utcnow()
    with services.db.session() as session:
        row = session.scalars(select(JobLease).where(JobLease.name == name)
                              .with_for_update(skip_locked=True)).one_or_none()
        if row is None:
            if session.get(JobLease, name) is not None:
                return False  # locked by a worker renewing it right now
            session.add(JobLease(name=name, owner=worker, expires_at=now + ttl))
            try:
                session.flush()
            except IntegrityError:  # another worker inserted it at the same moment
                session.rollback()
                return False
            return True
        if row.owner not in (None, worker) and row.expires_at is not None \
                and row.expires_at >= now:
            return False
        row.owner, row.expires_at = worker, now + ttl
        return True


def release_job(services: Services, name: str, worker: str) -> None:
    with services.db.session() as session:
        session.execute(update(JobLease).where(JobLease.name == name, JobLease.owner == worker)
                        .values(owner=None, expires_at=None))


def beat(services: Services, worker: str) -> None:
    """Record that this worker is alive (for /healthz)."""
    with services.db.session() as session:
        row = session.get(WorkerHeartbeat, worker)
        if row is None:
            session.add(WorkerHeartbeat(worker_id=worker))
        else:
            row.seen_at = utcnow()
        session.execute(delete(WorkerHeartbeat).where(
            WorkerHeartbeat.seen_at < utcnow() - HEARTBEAT_FORGET))


def stopped(services: Services, worker: str) -> None:
    """A clean stop: this worker no longer counts as alive."""
    with services.db.session() as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker))


def live_workers(session: Session) -> int:
    """Workers with a fresh heartbeat (a stale row is a worker that died)."""
    return session.scalar(select(func.count()).select_from(WorkerHeartbeat).where(
        WorkerHeartbeat.seen_at >= utcnow() - HEARTBEAT_STALE)) or 0
