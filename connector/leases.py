"""Who works on which company: leases in the database, so workers never overlap.

A worker claims due companies with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
serves one worker and ignores the clause), writes itself in as ``lease_owner`` until
``lease_expires_at`` and commits. Leases are renewed while work goes on and released after;
a crashed worker's leases simply run out and another worker takes the companies over.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from connector import events
from connector.models import Company, Connection, SyncRun, WorkerHeartbeat, utcnow
from connector.services import Services

DEFAULT_TTL = timedelta(seconds=120)


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
    """Lease up to ``limit`` connected companies that are free (and, by default, due a sync)."""
    now = utcnow()
    # A lease this worker holds is not free either: another job of the same worker has it.
    free = or_(Company.lease_expires_at.is_(None), Company.lease_expires_at < now)
    query = (
        select(Company)
        .join(Connection, Connection.company_id == Company.id)
        .where(Connection.disconnected_at.is_(None), free)
        .order_by(Company.sync_requested_at.desc().nulls_last(), Company.next_sync_at)
        .limit(limit)
        .with_for_update(of=Company, skip_locked=True)
    )
    if exclude:
        query = query.where(Company.id.not_in(list(exclude)))
    if sync_due_only:
        query = query.where(or_(Company.sync_requested_at.is_not(None),
                                Company.next_sync_at.is_(None), Company.next_sync_at <= now))
    claimed = []
    with services.db.session() as session:
        for company in session.scalars(query):
            if company.lease_owner is not None:
                events.record(session, "lease.takeover",
                              "Werk overgenomen van een worker die niet meer reageerde",
                              company_id=company.id, actor=f"worker:{worker}",
                              previous=company.lease_owner)
                # Its sync will never finish: say so, instead of "running" forever.
                session.execute(update(SyncRun).where(
                    SyncRun.company_id == company.id, SyncRun.outcome == "running",
                ).values(outcome="interrupted", finished_at=now,
                         error="worker stopped during the sync"))
            company.lease_owner, company.lease_expires_at = worker, now + ttl
            claimed.append(company.id)
    return claimed


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


def beat(services: Services, worker: str) -> None:
    """Record that this worker is alive (for /healthz)."""
    with services.db.session() as session:
        row = session.get(WorkerHeartbeat, worker)
        if row is None:
            session.add(WorkerHeartbeat(worker_id=worker))
        else:
            row.seen_at = utcnow()


class LeaseLost(Exception):
    """Another worker holds this company's lease now: stop without writing anything more."""


def assert_held(session: Session, company_id: str, worker: str | None) -> None:
    """Lock the company's lease row and check this worker still holds it.

    Called inside every transaction that commits sync progress, so a worker whose lease lapsed
    (and was taken over) cannot overwrite the new holder's work. ``worker`` None is the CLI or
    a test running without a lease: allowed.
    """
    if worker is None:
        return
    owner = session.execute(
        select(Company.lease_owner).where(Company.id == company_id).with_for_update()
    ).scalar_one_or_none()
    if owner is not None and owner != worker:
        raise LeaseLost(f"company {company_id} is leased by another worker")
