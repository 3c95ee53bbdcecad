"""SQLAlchemy 2 models: who may sign in, what is connected, the mirror, and the event log.

Primary keys are random strings (uuid4 hex) so a URL never reveals how many companies exist;
platform ids are kept as strings in ``external_id`` columns. The event log is append-only (a
database trigger refuses updates and deletes, see the initial migration).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2)


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC (SQLite forgets tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Operator(Base):
    """A collection partner's staff member; signs in with a password."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Sessions carry the version they were signed in with; sign-out and a new password bump it,
    # which ends every copy of every earlier session cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class GrantStatus(enum.StrEnum):
    ACTIVE = "active"
    RECONNECT_NEEDED = "reconnect_needed"
    REVOKED = "revoked"


class Grant(Base):
    """One OAuth token set. It can reach several tenants (administrations, divisions)."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(40))
    # Platforms with a host per country (LedgerPlugin.regions) keep the region the tokens
    # belong to.
    region: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=GrantStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    scope: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reconnect_notified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    connections: Mapped[list[Connection]] = relationship(back_populates="grant")


class Company(Base):
    """A creditor's tenant on a platform: the unit the settings page and the engine work on."""

    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sync_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The worker that holds this company's work, until when (see connector.leases).
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    payment_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    connection: Mapped[Connection | None] = relationship(back_populates="company", uselist=False)


class Connection(Base):
    """Links a company to its tenant through a grant; keeps the webhook we registered."""

    __tablename__ = "connections"
    __table_args__ = (Index("ix_connections_provider_tenant", "provider", "tenant_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), unique=True)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("grants.id"))
    provider: Mapped[str] = mapped_column(String(40))
    tenant_id: Mapped[str] = mapped_column(String(64))
    tenant_name: Mapped[str] = mapped_column(String(200))
    # A platform that subscribes per topic has several ids, comma-separated.
    webhook_id: Mapped[str | None] = mapped_column(Text)
    webhook_secret_enc: Mapped[str | None] = mapped_column(Text)
    webhook_error: Mapped[str | None] = mapped_column(String(200))
    connected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    disconnected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    company: Mapped[Company] = relationship(back_populates="connection")
    grant: Mapped[Grant | None] = relationship(back_populates="connections")

    @property
    def status(self) -> str:
        """active, reconnect_needed or disconnected: derived, never stored twice."""
        if self.disconnected_at is not None or self.grant is None:
            return "disconnected"
        return self.grant.status

    @property
    def status_reason(self) -> str | None:
        return None if self.grant is None else self.grant.status_reason


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


class Event(Base):
    """The append-only event log: every action against a debtor or a ledger, with actor."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_company_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))  # "system", "operator:<email>", "creditor"
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# ---------------------------------------------------------------------------------------------
# Pre-incasso: policies, cases, holds, deliveries and fees.


class CollectionSettings(Base):
    """A company's pre-incasso policy (JSON, see connector.collection.policy) and its mode.

    Every company starts in preview: steps are planned and shown, nothing goes out until the
    creditor or an operator switches to live or approves a step.
    """

    __tablename__ = "collection_settings"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    vat_increase: Mapped[bool] = mapped_column(Boolean, default=False)
    # In whose name the steps go out: name, iban, email, phone, address, kvk.
    sender: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)  # the creditor's, PNG or JPEG
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    # "auto" (from the debtor's country), "nl" or "en": the language of the messages.
    language: Mapped[str] = mapped_column(String(4), default="auto")
    # Only where the ledger sends its own reminders (capability send_own_reminder): the stamp
    # step sends the ledger's own reminder (with the stamp text) instead of our e-mail.
    stamp_via_ledger: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="system")
    # E-mail alerts and the weekly summary, switched per kind (connector.alerts); None: all on.
    alerts: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CaseState(enum.StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    READY_FOR_HANDOVER = "ready_for_handover"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


class Case(Base):
    """One overdue invoice in pre-incasso: which step comes next, and the legal term."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_company_state", "company_id", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), unique=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    variant: Mapped[str] = mapped_column(String(20))  # consumer | business
    state: Mapped[str] = mapped_column(String(30), default=CaseState.ACTIVE.value)
    next_step: Mapped[int] = mapped_column(Integer, default=0)
    opened_on: Mapped[date] = mapped_column(Date)
    last_step_on: Mapped[date | None] = mapped_column(Date)
    principal: Mapped[Decimal] = mapped_column(Money)
    letter_posted_on: Mapped[date | None] = mapped_column(Date)
    last_day_to_pay: Mapped[date | None] = mapped_column(Date)
    costs_due_from: Mapped[date | None] = mapped_column(Date)
    bik_amount: Mapped[Decimal | None] = mapped_column(Money)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship()
    debtor: Mapped[Debtor] = relationship()


class HoldKind(enum.StrEnum):
    DISPUTE = "dispute"
    PROMISE = "promise"
    PAYMENT_PLAN = "payment_plan"
    PAUSE = "pause"
    EXCLUDED = "excluded"  # a debtor the creditor never wants chased
    HANDOVER = "handover"
    # Placed by the debtor's own answer on its page (connector.debtor_page.responses).
    PAID_CHECK = "paid_check"  # says it has paid: wait for the payment to show in the ledger
    PLAN_PROPOSAL = "plan_proposal"  # proposed a payment plan: waits for the creditor's answer
    CALL_BACK = "call_back"  # asked to be called back in a time window


class Hold(Base):
    """Why a case (or every case of a debtor) must not move: who said so, why, until when."""

    __tablename__ = "holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    debtor_id: Mapped[str | None] = mapped_column(ForeignKey("debtors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    actor: Mapped[str] = mapped_column(String(100))
    until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(200))


class DeliveryState(enum.StrEnum):
    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"  # may have gone out; never retried blindly
    CALLING = "calling"  # a call step on the operators' call list, waiting for an outcome


class Delivery(Base):
    """One message (or hand-over) to one debtor, covering one or more of its cases.

    planned → sending → sent | failed | ambiguous, or skipped. ``sending`` is committed before
    the channel is called; a delivery found in ``sending`` later is ambiguous, never resent.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_company_state_due", "company_id", "state", "due_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(60))
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.PLANNED.value)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    total: Mapped[Decimal | None] = mapped_column(Money)
    bik_amount: Mapped[Decimal | None] = mapped_column(Money)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    channel_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    posted_on: Mapped[date | None] = mapped_column(Date)  # letters: the day it went in the post
    bounced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # e-mail: a bounce came

    cases: Mapped[list[DeliveryCase]] = relationship(back_populates="delivery",
                                                     cascade="all, delete-orphan")
    debtor: Mapped[Debtor] = relationship()


class DeliveryCase(Base):
    __tablename__ = "delivery_cases"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)
    amount: Mapped[Decimal | None] = mapped_column(Money)

    delivery: Mapped[Delivery] = relationship(back_populates="cases")
    case: Mapped[Case] = relationship()


class UsageLine(Base):
    """One billable step, for the monthly statement (amounts excluding VAT)."""

    __tablename__ = "usage_lines"
    __table_args__ = (Index("ix_usage_lines_company_month", "company_id", "month"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"))
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """Each worker process says it is alive; /healthz reads these."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RateCall(Base):
    """One API call against a shared budget (sliding window, shared by every worker)."""

    __tablename__ = "rate_calls"
    __table_args__ = (Index("ix_rate_calls_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class RateBudgetRow(Base):
    """Per budget key: the row workers lock to take a call, and when the platform said wait."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    blocked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    window_start: Mapped[datetime | None] = mapped_column(UtcDateTime)  # fixed windows only
    used: Mapped[int] = mapped_column(Integer, default=0)  # fixed windows only


# ---------------------------------------------------------------------------------------------
# Channels and the operator console.


class CallOutcome(enum.StrEnum):
    PROMISED = "promised"  # promised to pay on a date: a promise hold
    DISPUTE = "dispute"  # disputes the invoice: a dispute hold
    SAYS_PAID = "says_paid"  # says it has paid: the ledger is checked again
    NO_ANSWER = "no_answer"  # try again on the next working day
    VOICEMAIL = "voicemail"  # message left: try again on the next working day
    WRONG_NUMBER = "wrong_number"  # the step cannot be done: skipped


class CallAttempt(Base):
    """One call an operator made for a call step, and what came of it."""

    __tablename__ = "call_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    promised_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CompanyTemplate(Base):
    """A company's own text for one message template in one language (else the default)."""

    __tablename__ = "company_templates"

    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class PartnerSettings(Base):
    """The collection partner's identity (one row, id 1); environment variables are defaults."""

    __tablename__ = "partner_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


# ---------------------------------------------------------------------------------------------
# The debtor's page: a link behind every message, and what the debtor answered there.


class DebtorLink(Base):
    """The link behind one delivery: only a hash of its token is stored.

    The token itself is derived from the app's secret key and ``salt`` (so the demo and a
    re-rendered letter show the same link) and is never written to the database or a log.
    """

    __tablename__ = "debtor_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    delivery: Mapped[Delivery] = relationship()


class DebtorResponse(Base):
    """One answer a debtor gave on its page: paid, dispute, plan or call-back.

    One row per delivery and kind; a correction updates the row (counted, bounded). Free text
    is kept as text and escaped wherever it is shown.
    """

    __tablename__ = "debtor_responses"
    __table_args__ = (UniqueConstraint("delivery_id", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    debtor_id: Mapped[str] = mapped_column(ForeignKey("debtors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # paid, dispute, plan, callback
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text: Mapped[str | None] = mapped_column(Text)
    # open; plans: proposed → accepted | refused
    state: Mapped[str] = mapped_column(String(20), default="open")
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    delivery: Mapped[Delivery] = relationship()
    debtor: Mapped[Debtor] = relationship()
class AlertSent(Base):
    """One e-mail alert or weekly summary sent to a creditor, by its dedup key (#16).

    The key is the primary key: two workers running the alert job at once cannot both send
    the same alert (the second insert fails and that worker skips it).
    """

    __tablename__ = "alerts_sent"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)




class JobLease(Base):
    """A job only one worker may run at a time (the bounce listener), held like a company."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StoredFile(Base):
    """A file every machine must see (letters, print files, statements): in the database, so
    a worker on one machine and the console on another read the same bytes."""

    __tablename__ = "stored_files"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"), index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
