"""Background work: due syncs (scheduled and webhook-requested), the pre-incasso engine and the
write-back outbox.

APScheduler runs two short jobs in a loop; the database says what is due, so the web process
only has to set ``sync_requested_at`` for a webhook to lead to a sync within seconds.
This is the single-process worker; leases for many workers are a separate issue.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import or_, select

from connector import sync
from connector.collection.engine import run_company
from connector.models import Company, Connection, Grant, utcnow
from connector.services import Services
from connector.writeback import process_outbox
from providers.base import LedgerError

log = logging.getLogger(__name__)


class _SkipNoise(logging.Filter):
    """A poll that finds the previous one still running is expected, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkipNoise())

POLL_SECONDS = 1.0
OUTBOX_SECONDS = 3.0
ENGINE_SECONDS = 60.0
KEEP_ALIVE_HOURS = 6
KEEP_ALIVE_AGE = timedelta(days=7)  # far inside Exact Online's 30-day refresh-token expiry


def keep_alive(services: Services) -> int:
    """Refresh grants idle for a week, so an unused refresh token never expires."""
    refreshed = 0
    with services.db.session() as session:
        grants = list(session.scalars(select(Grant).where(Grant.status == "active")))
    for grant in grants:
        try:
            refreshed += services.tokens(grant).keep_alive(KEEP_ALIVE_AGE)
        except LedgerError as exc:
            log.warning("keep-alive refresh failed for grant %s: %s", grant.id, exc)
    return refreshed


def due_companies(services: Services, limit: int = 20) -> list[str]:
    """Companies whose sync was requested or whose interval has passed, oldest first."""
    now = utcnow()
    with services.db.session() as session:
        rows = session.scalars(
            select(Company.id)
            .join(Connection, Connection.company_id == Company.id)
            .where(
                Connection.disconnected_at.is_(None),
                or_(
                    Company.sync_requested_at.is_not(None),
                    Company.next_sync_at.is_(None),
                    Company.next_sync_at <= now,
                ),
            )
            .order_by(Company.sync_requested_at.desc().nulls_last(), Company.next_sync_at)
            .limit(limit)
        )
        return list(rows)


def connected_companies(services: Services) -> list[str]:
    with services.db.session() as session:
        return list(session.scalars(
            select(Company.id).join(Connection, Connection.company_id == Company.id)
            .where(Connection.disconnected_at.is_(None))))


def run_engine(services: Services) -> None:
    """Plan and send due pre-incasso steps for every connected company."""
    for company_id in connected_companies(services):
        try:
            run_company(services, company_id)
        except Exception:  # one company's bug must not stop the others
            log.exception("engine run crashed for company %s", company_id)


def run_due_syncs(services: Services) -> int:
    count = 0
    for company_id in due_companies(services):
        with services.db.session() as session:
            company = session.get(Company, company_id)
            trigger = "requested" if company.sync_requested_at else "schedule"
            connection = company.connection
            if connection is None or connection.status != "active":
                # Not syncable until reconnected; look again at the next interval.
                company.sync_requested_at = None
                company.next_sync_at = utcnow() + timedelta(
                    minutes=services.settings.sync_interval_minutes)
                continue
        try:
            sync.sync_company(services, company_id, trigger)
        except Exception:  # one company's bug must not stop the others
            log.exception("sync crashed for company %s", company_id)
            with services.db.session() as session:
                company = session.get(Company, company_id)
                company.sync_requested_at = None
                company.next_sync_at = utcnow() + sync.RETRY_AFTER_ERROR
        count += 1
    return count


class Worker:
    """Owns the scheduler; one lock keeps the jobs of this process from overlapping."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self.scheduler: BackgroundScheduler | BlockingScheduler | None = None

    def tick(self) -> None:
        if not self._lock.acquire(blocking=False):
            return
        try:
            run_due_syncs(self.services)
        finally:
            self._lock.release()

    def engine(self) -> None:
        if not self._lock.acquire(blocking=True, timeout=30):
            return
        try:
            run_engine(self.services)
        finally:
            self._lock.release()

    def outbox(self) -> None:
        try:
            process_outbox(self.services)
        except Exception:
            log.exception("outbox run crashed")

    def _add_jobs(self, scheduler: BackgroundScheduler | BlockingScheduler) -> None:
        scheduler.add_job(self.tick, "interval", seconds=POLL_SECONDS, id="syncs",
                          max_instances=1, coalesce=True)
        scheduler.add_job(self.outbox, "interval", seconds=OUTBOX_SECONDS, id="outbox",
                          max_instances=1, coalesce=True)
        scheduler.add_job(self.engine, "interval", seconds=ENGINE_SECONDS, id="engine",
                          max_instances=1, coalesce=True)
        scheduler.add_job(keep_alive, "interval", hours=KEEP_ALIVE_HOURS, id="keep_alive",
                          args=[self.services], max_instances=1, coalesce=True)

    def start(self) -> None:
        """Run in background threads of this process (the demo, the end-to-end tests)."""
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._add_jobs(self.scheduler)
        self.scheduler.start()

    def run_forever(self) -> None:
        """Run in the foreground (``connector worker``)."""
        self.scheduler = BlockingScheduler(timezone="UTC")
        self._add_jobs(self.scheduler)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
