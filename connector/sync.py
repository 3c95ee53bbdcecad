"""Ledger → local mirror: open invoices and their debtors, with paid/credited/written-off detection.

One sync asks the provider what changed since the versions we hold, applies it in one
transaction and records a :class:`SyncRun`. Failures are sorted by kind: a dead grant stops
syncing until the creditor reconnects, a rate limit postpones to the time the platform gave,
anything else is recorded and retried on the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector import events, leases
from connector.models import (
    Company,
    Debtor,
    Invoice,
    SyncRun,
    SyncState,
    utcnow,
)
from connector.notify import notify_reconnect
from connector.services import NotConnected, Services
from connector.tokens import mark_reconnect_needed, reconnect_reason
from providers.base import (
    DebtorRecord,
    InvoiceChanges,
    InvoiceRecord,
    InvoiceStatus,
    LedgerError,
    RateLimited,
    ReconnectRequired,
    Rejected,
    SyncCursor,
)

log = logging.getLogger(__name__)

CLOSING_MESSAGES = {
    InvoiceStatus.PAID: "betaald in de administratie",
    InvoiceStatus.CREDITED: "gecrediteerd",
    InvoiceStatus.UNCOLLECTIBLE: "als oninbaar afgeboekt",
    InvoiceStatus.DELETED: "verwijderd uit de administratie",
}
RETRY_AFTER_ERROR = timedelta(minutes=2)  # after a crash in our own code
MAX_BACKOFF = timedelta(hours=1)


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
    db = services.db
    with db.session() as session:
        company = session.get(Company, company_id)
        if company is None:
            raise LookupError(f"no company {company_id}")
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
        cursor = _cursor(session, company_id, state.cursor)
        run_id = run.id

    # The API calls happen outside any transaction; nothing is held open while we wait.
    try:
        changes = ledger.changed_invoices(cursor)
    except LedgerError as exc:
        return _record_failure(services, company_id, run_id, exc, ledger.api_calls, worker)

    with db.session() as session:
        run = session.get(SyncRun, run_id)
        state = session.get(SyncState, company_id)
        changed, closed = _apply(session, company_id, changes)
        open_count = _open_count(session, company_id)
        now = utcnow()
        run.outcome, run.finished_at = "ok", now
        run.api_calls = changes.api_calls
        run.invoices_changed, run.invoices_closed = changed, closed
        run.debtors_changed, run.open_invoices = len(changes.debtors), open_count
        state.cursor = changes.cursor
        state.last_success_at, state.last_error, state.retry_at = now, None, None
        state.failures = 0
        company = session.get(Company, company_id)
        company.next_sync_at = now + timedelta(minutes=services.settings.sync_interval_minutes)
        if worker is not None:  # taken over meanwhile? then the new holder's records stand
            # Last, so the row lock is held only until the commit right after it.
            leases.assert_held(session, company_id, worker)
    log.info("sync ok company=%s calls=%s changed=%s closed=%s",
             company_id, changes.api_calls, changed, closed)
    return SyncResult(company_id, "ok", changes.api_calls, changed, closed, open_count)


def _cursor(session: Session, company_id: str, value: str | None) -> SyncCursor:
    rows = session.execute(
        select(Invoice.external_id, Invoice.version, Debtor.external_id, Debtor.version)
        .outerjoin(Debtor, Invoice.debtor_id == Debtor.id)
        .where(Invoice.company_id == company_id, Invoice.status == InvoiceStatus.OPEN.value)
    ).all()
    return SyncCursor(
        value=value,
        invoice_versions={r[0]: r[1] or "" for r in rows},
        debtor_versions={r[2]: r[3] or "" for r in rows if r[2] is not None},
    )


def _apply(session: Session, company_id: str, changes: InvoiceChanges) -> tuple[int, int]:
    debtors = _upsert_debtors(session, company_id, changes.debtors)
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
        debtor = debtors.get(record.debtor_id) or _debtor_by_external_id(
            session, company_id, record.debtor_id)
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


def _debtor_by_external_id(session: Session, company_id: str, external_id: str) -> Debtor | None:
    return session.scalars(
        select(Debtor).where(Debtor.company_id == company_id, Debtor.external_id == external_id)
    ).one_or_none()


def _open_count(session: Session, company_id: str) -> int:
    return session.scalar(
        select(func.count()).select_from(Invoice).where(
            Invoice.company_id == company_id, Invoice.status == InvoiceStatus.OPEN.value)
    ) or 0


def _record_failure(
    services: Services, company_id: str, run_id: str, exc: LedgerError, calls: int,
    worker: str | None = None,
) -> SyncResult:
    """Sort a failure by kind: reconnect, wait for the platform, back off, or record only."""
    now = utcnow()
    with services.db.session() as session:
        if worker is not None:  # before anything (a reconnect notice) is done in its name
            leases.assert_held(session, company_id, worker)
        run = session.get(SyncRun, run_id)
        state = session.get(SyncState, company_id)
        company = session.get(Company, company_id)
        run.finished_at, run.api_calls, run.error = now, calls, str(exc)[:300]
        state.last_error = str(exc)[:300]
        state.failures = (state.failures or 0) + 1
        if isinstance(exc, ReconnectRequired):
            run.outcome = "reconnect_needed"
            grant = company.connection.grant if company.connection else None
            if grant is not None:
                mark_reconnect_needed(session, grant, reconnect_reason(exc))
                notify_reconnect(services, session, grant)
        elif isinstance(exc, RateLimited):
            run.outcome = "rate_limited"
            state.retry_at = company.next_sync_at = exc.retry_at
        elif isinstance(exc, Rejected):
            # A bug or bad data: retrying soon changes nothing; try again on the schedule.
            run.outcome = "rejected"
            state.retry_at = company.next_sync_at = now + timedelta(
                minutes=services.settings.sync_interval_minutes)
        else:
            run.outcome = "error"
            base = timedelta(seconds=4 * services.settings.retry_base_seconds)
            backoff = base * 2 ** min(state.failures - 1, 5)
            state.retry_at = company.next_sync_at = now + min(backoff, MAX_BACKOFF)
        events.record(session, f"sync.{run.outcome}", f"Synchronisatie mislukt: {exc}"[:500],
                      company_id=company_id, calls=calls)
    log.warning("sync failed company=%s outcome=%s: %s", company_id, run.outcome, exc)
    return SyncResult(company_id, run.outcome, calls, error=str(exc))
