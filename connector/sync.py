"""Ledger → local mirror: open invoices and their debtors, with paid/credited/written-off detection.

One sync asks the provider what changed since the versions we hold, page by page, and commits
each page with the cursor that resumes after it (and a lease check), then records a
:class:`SyncRun`. Failures are sorted by kind: a dead grant stops
syncing until the creditor reconnects, a rate limit postpones to the time the platform gave,
anything else is recorded and retried on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector import events, leases, ledger_errors, notify
from connector.clock import AMSTERDAM
from connector.db import Database
from connector.models import (
    Company,
    Debtor,
    Invoice,
    SyncRun,
    SyncState,
    utcnow,
)
from connector.services import NotConnected, Services
from providers.base import (
    DebtorRecord,
    InvoiceChangesPage,
    InvoiceRecord,
    InvoiceStatus,
    LedgerError,
    RateLimited,
    SyncCursor,
)

log = logging.getLogger(__name__)

CLOSING_MESSAGES = {
    InvoiceStatus.PAID: "betaald in de administratie",
    InvoiceStatus.CREDITED: "gecrediteerd",
    InvoiceStatus.UNCOLLECTIBLE: "als oninbaar afgeboekt",
    InvoiceStatus.DELETED: "verwijderd uit de administratie",
}
CHUNK = 500  # ids per query when comparing with the mirror
RETRY_AFTER_ERROR = timedelta(minutes=2)  # after a crash in our own code


@dataclass(frozen=True)
class SyncResult:
    company_id: str
    outcome: str  # ok, skipped, reconnect_needed, rate_limited, error
    api_calls: int = 0
    invoices_changed: int = 0
    invoices_closed: int = 0
    open_invoices: int = 0
    error: str | None = None


def request_sync(session: Session, company_id: str) -> None:
    """Ask the background sync to run this company soon (used by webhooks and buttons)."""
    company = session.get(Company, company_id)
    if company is not None:
        company.sync_requested_at = utcnow()


def sync_company(
    services: Services, company_id: str, trigger: str = "schedule", worker: str | None = None
) -> SyncResult:
    """Sync one company page by page; each page is committed with the cursor after it.

    A sync cut short (budget spent, crash, lost lease) leaves every committed page in place,
    and the next run goes on from the last committed cursor.
    """
    db = services.db
    with db.session() as session:
        company = session.get(Company, company_id)
        if company is None:
            raise LookupError(f"no company {company_id}")
        try:
            leases.assert_held(session, company_id, worker)
        except leases.LeaseLost:
            log.warning("sync not started company=%s: lease held by another worker", company_id)
            return SyncResult(company_id, "lease_lost")
        state = session.get(SyncState, company_id) or SyncState(company_id=company_id)
        session.add(state)
        run = SyncRun(company_id=company_id, trigger=trigger, worker=worker)
        session.add(run)
        state.last_started_at = run.started_at = utcnow()
        company.sync_requested_at = None
        try:
            ledger = services.ledger_for(company)
        except NotConnected:
            run.outcome, run.finished_at = "skipped", utcnow()
            return SyncResult(company_id, "skipped")
        known = KnownInDatabase(db, company_id)
        known.load(session)  # in this transaction: one round trip fewer for a small tenant
        cursor = SyncCursor(value=state.cursor, known=known)
        run_id = run.id

    # The API calls happen between pages, outside any transaction: nothing is held open
    # while we wait for the platform.
    pages = ledger.changed_invoices(cursor)
    changed = closed = debtors = 0
    try:
        for page in pages:
            with db.session() as session:
                leases.assert_held(session, company_id, worker)
                page_changed, page_closed = _apply(session, company_id, page)
                changed, closed = changed + page_changed, closed + page_closed
                debtors += len(page.debtors)
                state = session.get(SyncState, company_id)
                state.cursor = page.cursor
                if page.expected_total is not None:
                    state.expected_invoices = page.expected_total
                run = session.get(SyncRun, run_id)
                run.api_calls = ledger.api_calls
                run.invoices_changed, run.invoices_closed = changed, closed
                run.debtors_changed = debtors
    except leases.LeaseLost:
        pages.close()  # the ledger's generator stops here: its finally runs now
        log.warning("sync stopped company=%s: lease taken over by another worker", company_id)
        return SyncResult(company_id, "lease_lost", ledger.api_calls, changed, closed)
    except LedgerError as exc:
        pages.close()  # the ledger's generator stops here: its finally runs now
        failed = _record_failure(services, company_id, run_id, exc, ledger.api_calls, worker)
        return replace(failed, invoices_changed=changed, invoices_closed=closed)

    try:
        with db.session() as session:
            leases.assert_held(session, company_id, worker)
            run = session.get(SyncRun, run_id)
            state = session.get(SyncState, company_id)
            open_count = _open_count(session, company_id)
            now = utcnow()
            run.outcome, run.finished_at = "ok", now
            run.api_calls = ledger.api_calls
            run.invoices_changed, run.invoices_closed = changed, closed
            run.debtors_changed, run.open_invoices = debtors, open_count
            state.last_success_at, state.last_error, state.retry_at = now, None, None
            state.failures = 0
            company = session.get(Company, company_id)
            company.next_sync_at = now + timedelta(minutes=services.settings.sync_interval_minutes)
    except leases.LeaseLost:
        log.warning("sync end not recorded company=%s: lease taken over", company_id)
        return SyncResult(company_id, "lease_lost", ledger.api_calls, changed, closed)
    log.info("sync ok company=%s calls=%s changed=%s closed=%s",
             company_id, ledger.api_calls, changed, closed)
    return SyncResult(company_id, "ok", ledger.api_calls, changed, closed, open_count)


def waiting_for_limit(platform: str, retry_at: datetime) -> str:
    """Honest Dutch words for a spent budget: "wacht op de limiet van <platform>, volgende
    ronde 13:15" (Dutch time)."""
    at = retry_at.astimezone(AMSTERDAM)
    return f"wacht op de limiet van {platform}, volgende ronde {at:%H:%M}"


class KnownInDatabase:
    """The mirror's open invoices and their debtors, read in chunks (flat memory).

    Each question opens its own short session, so a provider may ask between API calls. A small
    tenant (up to ``SMALL`` open invoices) is read once, in one session: most syncs are small,
    and each session is a round trip.
    """

    SMALL = 2000

    def __init__(self, db: Database, company_id: str) -> None:
        self.db = db
        self.company_id = company_id
        self._small: dict[str, str] | None = None
        self._large = False
        self._has_debtors: bool | None = None

    def _open(self) -> Any:
        return (Invoice.company_id == self.company_id,
                Invoice.status == InvoiceStatus.OPEN.value)

    def load(self, session: Session) -> None:
        """Read a small tenant's open invoices (and whether they have debtors) in ``session``."""
        rows = session.execute(select(Invoice.external_id, Invoice.version).where(
            *self._open()).limit(self.SMALL + 1)).all()
        self._has_debtors = bool(session.scalar(select(select(Invoice.id).where(
            *self._open(), Invoice.debtor_id.is_not(None)).exists())))
        if len(rows) > self.SMALL:
            self._large = True
        else:
            self._small = {r[0]: r[1] or "" for r in rows}

    def _snapshot(self) -> dict[str, str] | None:
        """The open invoices' versions when there are few of them, else None (ask in chunks)."""
        if self._small is None and not self._large:
            with self.db.session() as session:
                self.load(session)
        return self._small

    def open_invoice_versions(self, ids: Sequence[str]) -> dict[str, str]:
        small = self._snapshot()
        if small is not None:
            return {i: small[i] for i in ids if i in small}
        found: dict[str, str] = {}
        with self.db.session() as session:
            for start in range(0, len(ids), CHUNK):
                chunk = list(ids[start : start + CHUNK])
                rows = session.execute(select(Invoice.external_id, Invoice.version).where(
                    *self._open(), Invoice.external_id.in_(chunk)))
                found.update((r[0], r[1] or "") for r in rows)
        return found

    def open_invoice_ids(self) -> Iterator[str]:
        small = self._snapshot()
        if small is not None:
            yield from list(small)
            return
        after = ""
        while True:
            with self.db.session() as session:
                chunk = list(session.scalars(
                    select(Invoice.external_id).where(*self._open(), Invoice.external_id > after)
                    .order_by(Invoice.external_id).limit(CHUNK)))
            yield from chunk
            if len(chunk) < CHUNK:
                return
            after = chunk[-1]

    def debtor_versions(self, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self.db.session() as session:
            for start in range(0, len(ids), CHUNK):
                chunk = list(ids[start : start + CHUNK])
                rows = session.execute(
                    select(Debtor.external_id, Debtor.version).where(
                        Debtor.company_id == self.company_id, Debtor.external_id.in_(chunk),
                        select(Invoice.id).where(*self._open(), Invoice.debtor_id == Debtor.id)
                        .exists()))
                found.update((r[0], r[1] or "") for r in rows)
        return found

    def has_open_debtors(self) -> bool:
        self._snapshot()
        return bool(self._has_debtors)


def _apply(session: Session, company_id: str, changes: InvoiceChangesPage) -> tuple[int, int]:
    debtors = _upsert_debtors(session, company_id, changes.debtors)
    missing = sorted({r.debtor_id for r in changes.invoices} - set(debtors))
    debtors.update(_by_external_id(session, Debtor, company_id, missing))
    wanted = [inv.id for inv in changes.invoices] + list(changes.deleted)
    existing = _by_external_id(session, Invoice, company_id, wanted)
    closed = 0
    for record in changes.invoices:
        invoice = existing.get(record.id)
        was_open = invoice is not None and invoice.status == InvoiceStatus.OPEN
        if invoice is None:
            if record.status != InvoiceStatus.OPEN:
                continue  # closed before we ever saw it open: nothing to mirror
            invoice = Invoice(company_id=company_id, external_id=record.id)
            session.add(invoice)
        debtor = debtors.get(record.debtor_id)
        _copy_invoice(invoice, record, debtor.id if debtor else None)
        if was_open and record.status.closed:
            closed += 1
            _close(session, invoice, record.status)
    for external_id in changes.deleted:
        invoice = existing.get(external_id)
        if invoice is not None and invoice.status == InvoiceStatus.OPEN:
            invoice.status = InvoiceStatus.DELETED.value
            closed += 1
            _close(session, invoice, InvoiceStatus.DELETED)
    return len(changes.invoices), closed


def _close(session: Session, invoice: Invoice, status: InvoiceStatus) -> None:
    invoice.closed_at = utcnow()
    label = invoice.number or invoice.external_id
    events.record(
        session, f"invoice.{status.value}", f"Factuur {label} {CLOSING_MESSAGES[status]}",
        company_id=invoice.company_id, subject_type="invoice", subject_id=invoice.id,
    )


def _copy_invoice(invoice: Invoice, record: InvoiceRecord, debtor_id: str | None) -> None:
    invoice.version = record.version
    invoice.number = record.number
    invoice.debtor_id = debtor_id
    invoice.status = record.status.value
    invoice.ledger_state = record.ledger_state
    invoice.invoice_date = record.invoice_date
    invoice.due_date = record.due_date
    invoice.currency = record.currency
    invoice.total = record.total
    invoice.open_amount = record.open_amount
    invoice.paid_on = record.paid_on
    invoice.ledger_paused = record.paused
    invoice.payment_url = record.payment_url
    if record.status == InvoiceStatus.OPEN:
        invoice.closed_at = None


def _upsert_debtors(
    session: Session, company_id: str, records: list[DebtorRecord]
) -> dict[str, Debtor]:
    existing = _by_external_id(session, Debtor, company_id, [r.id for r in records])
    for record in records:
        debtor = existing.get(record.id)
        if debtor is None:
            debtor = existing[record.id] = Debtor(company_id=company_id, external_id=record.id)
            session.add(debtor)
        debtor.version = record.version
        debtor.kind = record.kind.value
        for field in ("name", "contact_person", "email", "phone", "address_line", "postal_code",
                      "city", "country", "chamber_of_commerce", "customer_number"):
            setattr(debtor, field, getattr(record, field))
    session.flush()
    return existing


def _by_external_id(session: Session, model: type, company_id: str, ids: list[str]) -> dict:
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.scalars(
            select(model).where(model.company_id == company_id, model.external_id.in_(chunk))
        )
        found.update((row.external_id, row) for row in rows)
    return found


def _open_count(session: Session, company_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Invoice).where(
            Invoice.company_id == company_id, Invoice.status == InvoiceStatus.OPEN.value)
    ) or 0


def _record_failure(
    services: Services, company_id: str, run_id: str, exc: LedgerError, calls: int,
    worker: str | None = None,
) -> SyncResult:
    """Sort a failure by kind: reconnect, wait for the platform, back off, or record only.

    Pages committed before the failure stay; the next run resumes after the last of them. A
    spent budget hands the company back to the schedule at the moment the budget allows the
    next call.
    """
    now = utcnow()
    try:
        return _record_failure_held(services, company_id, run_id, exc, calls, worker, now)
    except leases.LeaseLost:
        log.warning("sync failure not recorded company=%s: lease taken over", company_id)
        return SyncResult(company_id, "lease_lost", calls, error=str(exc))


def _record_failure_held(
    services: Services, company_id: str, run_id: str, exc: LedgerError, calls: int,
    worker: str | None, now: datetime,
) -> SyncResult:
    with services.db.session() as session:
        leases.assert_held(session, company_id, worker)
        run = session.get(SyncRun, run_id)
        state = session.get(SyncState, company_id)
        company = session.get(Company, company_id)
        run.finished_at, run.api_calls, run.error = now, calls, str(exc)[:300]
        state.last_error = str(exc)[:300]
        reaction = ledger_errors.reaction_for(exc)
        if reaction.wait == ledger_errors.Wait.PLATFORM and isinstance(exc, RateLimited):
            # Not a failure: the platform's limit is the pace. Committed pages stay; the
            # company goes back to the schedule when the budget allows the next call.
            run.outcome = "rate_limited"
            state.retry_at = company.next_sync_at = exc.retry_at
            platform = services.providers.get(company.provider).info.display_name
            wait = waiting_for_limit(platform, exc.retry_at)
            run.error = state.last_error = wait[:300]
            run.open_invoices = _open_count(session, company_id)
            events.record(session, "sync.rate_limited", f"Synchronisatie: {wait}"[:500],
                          company_id=company_id, calls=calls)
            log.info("sync paused company=%s calls=%s until %s", company_id, calls,
                     exc.retry_at.isoformat())
            return SyncResult(company_id, "rate_limited", calls, error=wait)
        state.failures = (state.failures or 0) + 1
        run.outcome = reaction.outcome
        if reaction.reconnect:
            # Syncing stops until the creditor reconnects (the worker skips the company).
            notify.report_dead_grant(services, session, company, exc)
        elif reaction.gives_up:
            # A bug or bad data: retrying soon changes nothing; try again on the schedule.
            state.retry_at = company.next_sync_at = now + timedelta(
                minutes=services.settings.sync_interval_minutes)
        else:
            state.retry_at = company.next_sync_at = ledger_errors.retry_at(
                exc, failures=state.failures, base_seconds=services.settings.retry_base_seconds,
                now=now, scale=ledger_errors.SYNC_BACKOFF_SCALE)
        events.record(session, f"sync.{run.outcome}", f"Synchronisatie mislukt: {exc}"[:500],
                      company_id=company_id, calls=calls)
    log.warning("sync failed company=%s outcome=%s: %s", company_id, run.outcome, exc)
    return SyncResult(company_id, run.outcome, calls, error=str(exc))
