"""Pre-incasso: each company's policy, cases, holds, deliveries, call attempts, own templates
and the billable lines of the monthly statement.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.models.base import Base, Money, UtcDateTime, new_id, utcnow
from connector.models.ledger import Debtor, Invoice


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
