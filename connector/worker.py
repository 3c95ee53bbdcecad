"""Background work: syncs (scheduled and webhook-requested), the pre-incasso engine, the
write-back outbox, token keep-alive and heartbeats, run by APScheduler.

Work per company is claimed through a lease in the database (see connector.leases), so any
number of workers on any number of machines can share one PostgreSQL database: a company is
never synced or chased by two workers at once, and a crashed worker's companies are taken over
when its leases run out. The outbox claims each write on its own, with the same guarantees.
SQLite serves one worker.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select

from connector import alerts, connections, leases, periodic, sync
from connector.budgets import Lane, budget_lane
from connector.clock import today_nl
from connector.collection.engine import run_company
from connector.models import Company, Connection, Grant, utcnow
from connector.services import Services
from connector.writeback import process_outbox
from providers.base import LedgerError

log = logging.getLogger(__name__)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)

POLL_SECONDS = 1.0
OUTBOX_SECONDS = 3.0
ENGINE_SECONDS = 60.0
HEARTBEAT_SECONDS = 10.0
ALERT_SECONDS = 60.0
KEEP_ALIVE_HOURS = 6
KEEP_ALIVE_AGE = timedelta(days=7)  # far inside Exact Online's 30-day refresh-token expiry
CLAIM_BATCH = 5


class _SkipNoise(logging.Filter):
    """A poll that finds the previous one still running is expected, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkipNoise())


def keep_alive(services: Services) -> int:
    """Refresh grants idle for a week, so an unused refresh token never expires; only grants a
    connected company uses (an abandoned connect's grant is left to expire and be forgotten)."""
    refreshed = 0
    with services.db.session() as session:
        in_use = select(Connection.grant_id).where(Connection.disconnected_at.is_(None))
        grants = list(session.scalars(select(Grant).where(Grant.status == "active",
                                                          Grant.id.in_(in_use))))
    for grant in grants:
        try:
            refreshed += services.tokens(grant).keep_alive(KEEP_ALIVE_AGE)
        except LedgerError as exc:
            log.warning("keep-alive refresh failed for grant %s: %s", grant.id, exc)
    return refreshed


def sync_one(services: Services, company_id: str, worker: str | None = None) -> None:
    """Sync a leased company (unless its connection waits for a reconnect), then run the
    engine for it so fresh payments are seen before anything is sent."""
    with services.db.session() as session:
        company = session.get(Company, company_id)
        trigger = "requested" if company.sync_requested_at else "schedule"
        connection = company.connection
        if connection is None or connection.status != "active":
            company.sync_requested_at = None
            company.next_sync_at = utcnow() + timedelta(
                minutes=services.settings.sync_interval_minutes)
            return
    # A sync a webhook (or a person) asked for is how a payment is seen: the first lane.
    lane = Lane.PAYMENT_CHECK if trigger == "requested" else Lane.SCHEDULED_SYNC
    try:
        with budget_lane(lane):
            result = sync.sync_company(services, company_id, trigger, worker=worker)
        # A first sync cut short by the budget has committed pages: its cases open now.
        if result.outcome == "ok" or (result.outcome == "rate_limited"
                                      and result.invoices_changed):
            run_company(services, company_id)
    except Exception:  # one company's bug must not stop the others
        log.exception("sync crashed for company %s", company_id)
        with services.db.session() as session:
            company = session.get(Company, company_id)
            company.sync_requested_at = None
            company.next_sync_at = utcnow() + sync.RETRY_AFTER_ERROR


def _sync_asked(services: Services, company_id: str) -> bool:
    with services.db.session() as session:
        return session.scalar(
            select(Company.sync_requested_at).where(Company.id == company_id)) is not None


class Worker:
    """One worker process (or, in the demo, one set of threads in the web process)."""

    def __init__(self, services: Services, worker_id: str | None = None,
                 lease_ttl: timedelta = leases.DEFAULT_TTL) -> None:
        self.services = services
        self.id = worker_id or leases.new_worker_id()
        self.lease_ttl = lease_ttl
        self.held: set[str] = set()
        self._held_lock = threading.Lock()
        self.scheduler: BackgroundScheduler | BlockingScheduler | None = None
        self.bounce_listener: Any = None

    def _work(self, company_ids: list[str], job: str) -> None:
        with self._held_lock:  # renewed from now on, also while they wait their turn
            self.held.update(company_ids)
        for company_id in company_ids:
            if company_id not in leases.renew(self.services, self.id, [company_id],
                                              self.lease_ttl):
                # The lease lapsed (this worker was too slow): another worker may have it.
                with self._held_lock:
                    self.held.discard(company_id)
                continue
            try:
                if job == "sync" or _sync_asked(self.services, company_id):
                    # A payment check waits for this company: it goes first (the engine
                    # runs right after the sync).
                    sync_one(self.services, company_id, self.id)
                else:
                    run_company(self.services, company_id)
            except Exception:
                log.exception("%s crashed for company %s", job, company_id)
            finally:
                leases.release(self.services, self.id, company_id)
                with self._held_lock:
                    self.held.discard(company_id)

    def tick(self) -> int:
        """Sync the companies that are due, a few at a time."""
        claimed = leases.claim(self.services, self.id, limit=CLAIM_BATCH, ttl=self.lease_ttl)
        self._work(claimed, "sync")
        return len(claimed)

    def engine(self) -> int:
        """Run the engine for every free connected company (plan, and send what is due)."""
        done: set[str] = set()
        while True:
            claimed = [c for c in leases.claim(self.services, self.id, limit=CLAIM_BATCH,
                                               sync_due_only=False, ttl=self.lease_ttl,
                                               exclude=done)]
            if not claimed:
                return len(done)
            self._work(claimed, "engine")
            done.update(claimed)

    def outbox(self) -> None:
        try:
            process_outbox(self.services)
        except Exception:
            log.exception("outbox run crashed")

    def renew(self) -> None:
        with self._held_lock:
            held = list(self.held)
        leases.renew(self.services, self.id, held, self.lease_ttl)

    def heartbeat(self) -> None:
        leases.beat(self.services, self.id)

    def _add_jobs(self, scheduler: BackgroundScheduler | BlockingScheduler) -> None:
        def every(func, seconds: float, name: str) -> None:
            scheduler.add_job(func, "interval", seconds=seconds, id=name, max_instances=1,
                              coalesce=True, next_run_time=utcnow())

        every(self.tick, POLL_SECONDS, "syncs")
        every(self.outbox, self.services.settings.outbox_interval_seconds or OUTBOX_SECONDS,
              "outbox")
        every(self.engine, self.services.settings.engine_interval_seconds or ENGINE_SECONDS,
              "engine")
        every(self.renew, max(self.lease_ttl.total_seconds() / 3, 1), "renew")
        every(self.heartbeat, HEARTBEAT_SECONDS, "heartbeat")
        every(lambda: alerts.run(self.services), ALERT_SECONDS, "alerts")  # and weekly summary
        scheduler.add_job(keep_alive, "interval", hours=KEEP_ALIVE_HOURS, id="keep_alive",
                          args=[self.services], max_instances=1, coalesce=True)
        scheduler.add_job(connections.forget_orphan_grants, "interval", minutes=15,
                          id="orphan_grants", args=[self.services], max_instances=1,
                          coalesce=True)
        # Several workers may all run these: the files they write are the same each time.
        scheduler.add_job(lambda: periodic.daily_print_file(self.services, today_nl()), "cron",
                          hour=16, minute=0, timezone="Europe/Amsterdam", id="print_file")
        scheduler.add_job(
            lambda: periodic.monthly_statements(self.services,
                                                periodic.previous_month(today_nl())),
            "cron", day=1, hour=6, timezone="Europe/Amsterdam", id="statements")

    def start(self) -> None:
        """Run in background threads of this process (the demo, the end-to-end tests)."""
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._add_jobs(self.scheduler)
        self._start_bounce_listener()
        self.scheduler.start()

    def run_forever(self) -> None:
        """Run in the foreground (``connector worker``)."""
        self.scheduler = BlockingScheduler(timezone="UTC")
        self._add_jobs(self.scheduler)
        # SIGTERM (systemd, docker, a supervisor) stops the worker like Ctrl-C does.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        log.info("worker %s started", self.id)
        self._start_bounce_listener()
        try:
            self.scheduler.start()
        finally:
            self._stop_bounce_listener()

    def _start_bounce_listener(self) -> None:
        # Only with BOUNCE_SMTP_LISTEN; imported here, aiosmtpd is not needed otherwise.
        from connector.bounces import start_listener

        if self.bounce_listener is None:
            self.bounce_listener = start_listener(self.services)

    def _stop_bounce_listener(self) -> None:
        if self.bounce_listener is not None:
            self.bounce_listener.stop()
            self.bounce_listener = None

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self._stop_bounce_listener()
