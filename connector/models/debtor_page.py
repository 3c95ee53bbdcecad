"""The debtor's page: a link behind every message, and what the debtor answered there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.models.base import Base, UtcDateTime, new_id, utcnow
from connector.models.collection import Delivery
from connector.models.ledger import Debtor


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
