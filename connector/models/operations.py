"""The append-only event log and what the workers share: heartbeats, rate budgets, job
leases, stored files and the alerts already sent.

The event log is append-only: a database trigger refuses updates and deletes (see the
initial migration).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from connector.models.base import Base, UtcDateTime, new_id, utcnow


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
