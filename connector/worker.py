"""Background work: syncs (scheduled and webhook-requested), the pre-incasso engine, the
write-back outbox, token keep-alive and heartbeats, run by APScheduler.

Work per company is claimed through a lease in the database (see connector.leases), so any
number of workers on any number of machines can share one PostgreSQL database: a company is
never synced or chased by two workers at once, and a crashed worker's companies are taken over
when its leases run out. The outbox claims each write on its own, with the same guarantees.
SQLite serves one worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select, update

from connector import alerts, connections, leases, notify, periodic, sync
from connector.budgets import Lane, budget_lane
from connector.clock import AMSTERDAM, today_nl
from connector.collection.engine import run_company
from connector.models import Company, Connection, Grant, SyncRun, utcnow
from connector.services import Services
from connector.writeback import process_outbox
from providers.base import LedgerError

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
OUTBOX_SECONDS = 3.0
ENGINE_SECONDS = 60.0
HEARTBEAT_SECONDS = leases.HEARTBEAT_SECONDS
ALERT_SECONDS = 60.0
KEEP_ALIVE_HOURS = 6
KEEP_ALIVE_AGE = timedelta(days=7)  # far inside a 30-day refresh-token expiry (the shortest)
CLAIM_BATCH = 5
DEFAULT_STOP_TIMEOUT = 30.0
BOUNCE_JOB = "bounce-listener"


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
            # A refused refresh token: the creditor hears it now, as after a failed sync
            # (the worker skips a company waiting for a reconnect, so no sync would tell).
            with services.db.session() as session:
                for company in session.scalars(select(Company).join(Connection).where(
                        Connection.grant_id == grant.id, Connection.disconnected_at.is_(None))):
                    notify.report_dead_grant(services, session, company, exc)
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
    except leases.LeaseLost:
        # Taken over (or handed back at a stop timeout): the new holder owns the records now.
        log.warning("sync of company %s dropped: lease lost", company_id)
    except Exception:  # one company's bug must not stop the others
        log.exception("sync crashed for company %s", company_id)
        now = utcnow()
        with services.db.session() as session:
            company = session.get(Company, company_id)
            company.sync_requested_at = None
            company.next_sync_at = now + sync.RETRY_AFTER_ERROR
            # The history says what happened, instead of "running" for ever.
            session.execute(update(SyncRun).where(
                SyncRun.company_id == company_id, SyncRun.worker == worker,
                SyncRun.outcome == "running",
            ).values(outcome="error", finished_at=now,
                     error="interne fout; nieuwe poging over enkele minuten"))


def _sync_asked(services: Services, company_id: str) -> bool:
    with services.db.session() as session:
        return session.scalar(
            select(Company.sync_requested_at).where(Company.id == company_id)) is not None


class Worker:
    """One worker process (or, in the demo, one set of threads in the web process).

    A keeper thread, apart from the scheduler, renews every lease this worker holds and beats
    its heartbeat until the last work has ended, so a long sync (or a stop that waits for one)
    never loses its company. A stop takes no new work, hands back companies claimed but not
    started, waits up to ``stop_timeout`` seconds for running work and then lets go.
    """

    def __init__(self, services: Services, worker_id: str | None = None,
                 lease_ttl: timedelta = leases.DEFAULT_TTL,
                 stop_timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        self.services = services
        self.id = worker_id or leases.new_worker_id()
        self.lease_ttl = lease_ttl
        self.stop_timeout = stop_timeout
        self.held: set[str] = set()  # leased by this worker (renewed by the keeper)
        self.active: set[str] = set()  # of those, the ones being worked on right now
        self._held_lock = threading.Lock()
        self.stopping = threading.Event()
        self._busy = 0
        self._idle = threading.Condition()
        self._keeper_stop = threading.Event()
        self._keeper: threading.Thread | None = None
        self._next_beat = 0.0
        self.scheduler: BackgroundScheduler | BlockingScheduler | None = None
        self.bounce_listener: Any = None
        self._stopped = False

    # -- work -------------------------------------------------------------------------------

    def _guarded(self, func: Callable[[], object]) -> Callable[[], None]:
        """A scheduler job that does nothing once stopping and is waited for by a stop."""

        def run() -> None:
            with self._idle:
                if self.stopping.is_set():
                    return
                self._busy += 1
            try:
                func()
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return run

    def _work(self, company_ids: list[str], job: str) -> None:
        with self._held_lock:  # renewed from now on, also while they wait their turn
            stopping = self.stopping.is_set()
            if not stopping:
                self.held.update(company_ids)
        if stopping:  # the stop came between the claim and now: hand them back
            for company_id in company_ids:
                leases.release(self.services, self.id, company_id)
            return
        for company_id in company_ids:
            with self._held_lock:
                if self.stopping.is_set() or company_id not in self.held:
                    if company_id in self.held:
                        self.held.discard(company_id)
                        leases.release(self.services, self.id, company_id)
                    continue  # handed back by the stop
                self.active.add(company_id)
            try:
                if company_id not in leases.renew(self.services, self.id, [company_id],
                                                  self.lease_ttl):
                    # The lease lapsed (this worker was too slow): another worker may have it.
                    continue
                if job == "sync" or _sync_asked(self.services, company_id):
                    # A payment check waits for this company: it goes first (the engine
                    # runs right after the sync).
                    sync_one(self.services, company_id, self.id)
                else:
                    run_company(self.services, company_id)
            except Exception:
                log.exception("%s crashed for company %s", job, company_id)
            finally:
                with self._held_lock:
                    self.active.discard(company_id)
                    still_mine = company_id in self.held
                    self.held.discard(company_id)
                if still_mine:
                    leases.release(self.services, self.id, company_id)

    def tick(self) -> int:
        """Sync the companies that are due, a few at a time."""
        if self.stopping.is_set():
            return 0
        claimed = leases.claim(self.services, self.id, limit=CLAIM_BATCH, ttl=self.lease_ttl)
        self._work(claimed, "sync")
        return len(claimed)

    def engine(self) -> int:
        """Run the engine for every free connected company (plan, and send what is due)."""
        done: set[str] = set()
        while not self.stopping.is_set():
            claimed = [c for c in leases.claim(self.services, self.id, limit=CLAIM_BATCH,
                                               sync_due_only=False, ttl=self.lease_ttl,
                                               exclude=done)]
            if not claimed:
                break
            self._work(claimed, "engine")
            done.update(claimed)
        return len(done)

    def outbox(self) -> None:
        try:
            process_outbox(self.services, stop=self.stopping)
        except Exception:
            log.exception("outbox run crashed")

    # -- keeping leases, heartbeat and the bounce listener ----------------------------------

    def renew(self) -> None:
        with self._held_lock:
            held = list(self.held)
        kept = leases.renew(self.services, self.id, held, self.lease_ttl)
        lost = set(held) - kept
        if lost:
            log.warning("leases lost for %d companies (renewed too late)", len(lost))

    def heartbeat(self) -> None:
        leases.beat(self.services, self.id)

    def keep(self) -> None:
        """One round of the keeper: renew leases, beat, hold or take the bounce listener."""
        steps = [self.renew, self._keep_bounce_listener]
        if time.monotonic() >= self._next_beat:
            self._next_beat = time.monotonic() + HEARTBEAT_SECONDS
            steps.append(self.heartbeat)
        for step in steps:
            try:
                step()
            except Exception:  # the database may be away for a moment: next round
                log.exception("keeper step %s failed", step.__name__)

    def _keeper_loop(self) -> None:
        interval = min(max(self.lease_ttl.total_seconds() / 3, 0.5), HEARTBEAT_SECONDS)
        while True:
            self.keep()
            if self._keeper_stop.wait(interval):
                return

    def _start_keeper(self) -> None:
        self._keeper = threading.Thread(target=self._keeper_loop, name=f"keeper-{self.id}",
                                        daemon=True)
        self._keeper.start()

    def _keep_bounce_listener(self) -> None:
        """Exactly one worker runs the listener (``BOUNCE_SMTP_LISTEN``); another takes over
        when its lease runs out or it stops."""
        if not self.services.settings.bounce_smtp_listen or self.stopping.is_set():
            return
        if leases.claim_job(self.services, BOUNCE_JOB, self.id, self.lease_ttl):
            if self.bounce_listener is None:
                self._start_bounce_listener()
        elif self.bounce_listener is not None:
            log.warning("bounce listener lease lost; stopping the listener here")
            self._stop_bounce_listener()

    def _add_jobs(self, scheduler: BackgroundScheduler | BlockingScheduler) -> None:
        def every(func, seconds: float, name: str) -> None:
            scheduler.add_job(self._guarded(func), "interval", seconds=seconds, id=name,
                              max_instances=1, coalesce=True, next_run_time=utcnow())

        every(self.tick, POLL_SECONDS, "syncs")
        every(self.outbox, self.services.settings.outbox_interval_seconds or OUTBOX_SECONDS,
              "outbox")
        every(self.engine, self.services.settings.engine_interval_seconds or ENGINE_SECONDS,
              "engine")
        every(lambda: alerts.run(self.services), ALERT_SECONDS, "alerts")  # and weekly summary
        scheduler.add_job(self._guarded(lambda: keep_alive(self.services)), "interval",
                          hours=KEEP_ALIVE_HOURS, id="keep_alive", max_instances=1,
                          coalesce=True)
        scheduler.add_job(self._guarded(lambda: connections.forget_orphan_grants(self.services)),
                          "interval", minutes=15, id="orphan_grants", max_instances=1,
                          coalesce=True)
        # Several workers may all run these: the files they write are the same each time.
        scheduler.add_job(
            self._guarded(lambda: periodic.daily_print_file(self.services, today_nl())), "cron",
            hour=16, minute=0, timezone=AMSTERDAM, id="print_file")
        scheduler.add_job(
            self._guarded(lambda: periodic.monthly_statements(
                self.services, periodic.previous_month(today_nl()))),
            "cron", day=1, hour=6, timezone=AMSTERDAM, id="statements")

    # -- start and stop ---------------------------------------------------------------------

    def start(self) -> None:
        """Run in background threads of this process (the demo, the end-to-end tests)."""
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self._add_jobs(self.scheduler)
        self._start_keeper()
        self.scheduler.start()

    def run_forever(self) -> None:
        """Run in the foreground (``connector worker``) until SIGTERM or Ctrl-C."""
        self.scheduler = BlockingScheduler(timezone="UTC")
        self._add_jobs(self.scheduler)
        # SIGTERM (systemd, docker, a supervisor) stops the worker like Ctrl-C does.
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        log.info("worker %s started", self.id)
        self._start_keeper()
        try:
            self.scheduler.start()
        finally:
            clean = self.stop()
        if not clean:
            # Work still runs in a scheduler thread; its leases are given up and it cannot
            # record anything any more (every commit checks the lease): end the process.
            logging.shutdown()
            os._exit(0)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stopping.is_set():
            return
        log.info("worker %s stopping (signal %s)", self.id, signum)
        self.stopping.set()
        # Not from the handler itself: the scheduler's loop runs in this very thread.
        threading.Thread(target=self._shutdown_scheduler, daemon=True).start()

    def _shutdown_scheduler(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def stop(self, timeout: float | None = None) -> bool:
        """Stop cleanly; True when all work ended within the timeout."""
        if self._stopped:
            return True
        self._stopped = True
        self.stopping.set()
        self._shutdown_scheduler()
        with self._held_lock:  # claimed but not started: back at once
            waiting = self.held - self.active
            self.held -= waiting
        for company_id in waiting:
            leases.release(self.services, self.id, company_id)
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        with self._idle:
            while self._busy and time.monotonic() < deadline:
                self._idle.wait(timeout=max(deadline - time.monotonic(), 0.01))
            clean = self._busy == 0
        with self._held_lock:
            left = list(self.held)
            self.held.clear()
        if left:
            log.warning("worker %s: work on %d companies did not end within the stop "
                        "timeout; giving it up", self.id, len(left))
            leases.interrupt_and_release(self.services, self.id, left)
        self._stop_bounce_listener()
        self._keeper_stop.set()
        if self._keeper is not None:
            self._keeper.join(timeout=30)
        with contextlib.suppress(Exception):
            leases.release_job(self.services, BOUNCE_JOB, self.id)
        with contextlib.suppress(Exception):
            leases.stopped(self.services, self.id)
        log.info("worker %s stopped%s", self.id, "" if clean else " (work given up)")
        return clean

    def _start_bounce_listener(self) -> None:
        # Only with BOUNCE_SMTP_LISTEN; imported here, aiosmtpd is not needed otherwise.
        from connector.bounces import start_listener

        if self.bounce_listener is None:
            self.bounce_listener = start_listener(self.services)

    def _stop_bounce_listener(self) -> None:
        if self.bounce_listener is not None:
            self.bounce_listener.stop()
            self.bounce_listener = None
