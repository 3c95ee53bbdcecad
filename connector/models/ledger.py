"""The local mirror of each ledger (debtors, invoices), its sync and the write-back outbox.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.models.base import Base, Money, UtcDateTime, new_id, utcnow


class Debtor(Base):
    __tablename__ = "debtors"
    __table_args__ = (UniqueConstraint("company_id", "external_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_line: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    chamber_of_commerce: Mapped[str | None] = mapped_column(String(20))
    customer_number: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Invoice(Base):
    """The local mirror of one sales invoice."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id"),
        Index("ix_invoices_company_status_due", "company_id", "status", "due_date"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    debtor_id: Mapped[str | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    version: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # providers.base.InvoiceStatus
    ledger_state: Mapped[str] = mapped_column(String(30))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total: Mapped[Decimal] = mapped_column(Money)
    open_amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date | None] = mapped_column(Date)
    ledger_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_url: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    debtor: Mapped[Debtor | None] = relationship()

    def days_overdue(self, today: date) -> int:
        if self.due_date is None:
            return 0
        return max((today - self.due_date).days, 0)


class SyncState(Base):
    """The incremental cursor and the latest outcome of a company's sync."""

    __tablename__ = "sync_states"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row, for the backoff
    # How many invoices the running pass will bring, where the platform tells (progress).
    expected_invoices: Mapped[int | None] = mapped_column(Integer)


class SyncRun(Base):
    """One sync of one company: its counts, calls and outcome (the sync history)."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_company_started", "company_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule, webhook, connect, manual
    worker: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    invoices_changed: Mapped[int] = mapped_column(Integer, default=0)
    invoices_closed: Mapped[int] = mapped_column(Integer, default=0)
    debtors_changed: Mapped[int] = mapped_column(Integer, default=0)
    open_invoices: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))


class LedgerWriteState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"
    DROPPED = "dropped"  # not written: stale by the time its turn came (see connector.writeback)


class LedgerWrite(Base):
    """The write-back outbox: one note, payment, pause or resume for the source ledger.

    ``key`` is unique per company and always made by the server (random or derived from the
    decision): the same write is never queued twice, and the provider uses it to find a write
    that landed although its answer was lost.
    """

    __tablename__ = "ledger_writes"
    __table_args__ = (Index("ix_ledger_writes_state_next", "state", "next_attempt_at"),
                      UniqueConstraint("company_id", "key"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # note, payment, pause, resume
    key: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=LedgerWriteState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    ledger_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    invoice: Mapped[Invoice] = relationship()


class WebhookReceipt(Base):
    """Delivery ids already processed, so a redelivered push is acknowledged and dropped."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (UniqueConstraint("provider", "delivery_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(40))
    delivery_id: Mapped[str] = mapped_column(String(100))
    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id"))
    action: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
