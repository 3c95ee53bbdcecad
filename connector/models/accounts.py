"""Who works here and what is connected: operators, the partner's identity, OAuth grants and
the creditors' companies with their connections.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connector.models.base import Base, UtcDateTime, new_id, utcnow


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


class PartnerSettings(Base):
    """The collection partner's identity (one row, id 1); environment variables are defaults."""

    __tablename__ = "partner_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_mime: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))
