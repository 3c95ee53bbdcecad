"""Connecting and disconnecting tenants: from an OAuth grant to companies, and back.

Connecting again (or signing in again) always moves a company onto the newest grant, which is
also how a connection marked "reconnect needed" is repaired.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.collection.cases import settings_for
from connector.models import Company, Connection, Grant, GrantStatus, utcnow
from connector.services import Services
from connector.tokens import store_tokens
from providers.base import LedgerError, Tenant, TokenSet

log = logging.getLogger(__name__)


def create_grant(
    services: Services, provider_key: str, tokens: TokenSet, region: str | None = None
) -> str:
    with services.db.session() as session:
        grant = Grant(provider=provider_key, region=region)
        store_tokens(grant, tokens, services.box)
        session.add(grant)
        session.flush()
        return grant.id


def list_tenants(services: Services, grant_id: str) -> list[Tenant]:
    with services.db.session() as session:
        grant = session.get(Grant, grant_id)
        provider = services.provider_for(grant.provider, grant.region)
        tokens = services.tokens(grant)
    return provider.list_tenants(tokens)


def existing_connections(
    session: Session, provider_key: str, tenant_ids: Iterable[str]
) -> dict[str, Connection]:
    rows = session.scalars(
        select(Connection).where(
            Connection.provider == provider_key, Connection.tenant_id.in_(list(tenant_ids))
        )
    )
    return {c.tenant_id: c for c in rows}


def connect_tenants(
    services: Services, grant_id: str, tenants: Iterable[Tenant], actor: str = "creditor"
) -> list[str]:
    """Make (or re-link) a company per tenant on this grant; returns the company ids."""
    tenants = list(tenants)
    company_ids: list[str] = []
    with services.db.session() as session:
        grant = session.get(Grant, grant_id)
        known = existing_connections(session, grant.provider, [t.id for t in tenants])
        for tenant in tenants:
            connection = known.get(tenant.id)
            if connection is None:
                company = Company(name=tenant.name, provider=grant.provider)
                session.add(company)
                session.flush()
                connection = Connection(company_id=company.id, provider=grant.provider,
                                        tenant_id=tenant.id, tenant_name=tenant.name)
                session.add(connection)
                message = f"Gekoppeld met {tenant.name}"
            else:
                company = connection.company
                message = f"Opnieuw gekoppeld met {tenant.name}"
            previous = connection.grant
            connection.grant = grant
            connection.tenant_name = tenant.name
            connection.disconnected_at = None
            company.sync_requested_at = utcnow()
            session.flush()
            settings_for(session, company.id)  # the Dutch default policy, in preview
            if previous is not None and previous.id != grant.id:
                _forget_if_unused(previous)
            events.record(session, "connection.connected", message, company_id=company.id,
                          actor=actor, subject_type="connection", subject_id=connection.id)
            company_ids.append(company.id)
    for company_id in company_ids:
        ensure_webhook(services, company_id)
    return company_ids


def companies_for_tenants(
    services: Services, grant_id: str, tenants: Iterable[Tenant]
) -> list[str]:
    """Signing in again: the companies this grant proves control of get the new grant."""
    with services.db.session() as session:
        grant = session.get(Grant, grant_id)
        connected = [
            t for t in tenants
            if (c := existing_connections(session, grant.provider, [t.id]).get(t.id))
            and c.disconnected_at is None
        ]
    return connect_tenants(services, grant_id, connected) if connected else []


ORPHAN_AFTER = timedelta(hours=1)  # a connect is finished (or abandoned) well within this


def forget_orphan_grants(services: Services, older_than: timedelta = ORPHAN_AFTER) -> int:
    """Forget the tokens of grants no company has used since they were made (a failed or
    abandoned connect): live tokens nobody uses are only a risk. Returns how many."""
    cutoff = utcnow() - older_than
    forgotten = 0
    with services.db.session() as session:
        candidates = session.scalars(select(Grant).where(
            Grant.status != GrantStatus.REVOKED.value, Grant.created_at < cutoff,
            ~Grant.connections.any()))
        for grant in candidates:
            grant.access_token_enc = grant.refresh_token_enc = None
            grant.status = GrantStatus.REVOKED.value
            grant.status_reason = "koppelen niet afgemaakt"
            forgotten += 1
            log.info("forgot the tokens of unused grant %s", grant.id)
    return forgotten


def _forget_if_unused(grant: Grant) -> None:
    """A grant no connection uses any more keeps no tokens."""
    if any(c.disconnected_at is None and c.grant is grant for c in grant.connections):
        return
    grant.access_token_enc = grant.refresh_token_enc = None
    grant.status = GrantStatus.REVOKED.value
    grant.status_reason = "vervangen of ontkoppeld"


def webhook_url(services: Services, connection: Connection) -> str:
    return f"{services.settings.public_url}/webhooks/{connection.provider}/{connection.id}"


def ensure_webhook(services: Services, company_id: str) -> None:
    """Register a webhook for the company's tenant if it has none; failures are shown, not fatal.

    Without a webhook the scheduled sync still runs, only less promptly.
    """
    with services.db.session() as session:
        company = session.get(Company, company_id)
        connection = company.connection
        if connection.webhook_id or not services.providers.get(
            connection.provider).info.capabilities.webhooks:
            return
        url = webhook_url(services, connection)
        ledger = services.ledger_for(company)
        connection_id = connection.id
    try:
        registration = ledger.register_webhook(url)
    except LedgerError as exc:
        with services.db.session() as session:
            connection = session.get(Connection, connection_id)
            connection.webhook_error = f"Webhook niet geregistreerd: {exc}"[:200]
        log.warning("webhook registration failed for company %s: %s", company_id, exc)
        return
    with services.db.session() as session:
        connection = session.get(Connection, connection_id)
        connection.webhook_id = registration.id
        connection.webhook_secret_enc = services.box.encrypt(registration.secret)
        connection.webhook_error = None
        events.record(session, "connection.webhook_registered",
                      "Webhook geregistreerd: wijzigingen komen direct door",
                      company_id=company_id, subject_type="connection", subject_id=connection_id)


def disconnect(services: Services, company_id: str, actor: str) -> None:
    """Remove the webhook and the tokens; keep the company, its mirror and its event log."""
    with services.db.session() as session:
        company = session.get(Company, company_id)
        connection = company.connection
        if connection is None or connection.disconnected_at is not None:
            return
        webhook_id = connection.webhook_id
        ledger = None
        if webhook_id and connection.status == "active":
            ledger = services.ledger_for(company)
        connection_id = connection.id
    problem = None
    if ledger is not None and webhook_id:
        try:
            ledger.delete_webhook(webhook_id)
        except LedgerError as exc:
            problem = str(exc)
    with services.db.session() as session:
        connection = session.get(Connection, connection_id)
        grant = connection.grant
        connection.webhook_id = connection.webhook_secret_enc = connection.webhook_error = None
        connection.disconnected_at = utcnow()
        connection.grant = None
        session.flush()
        if grant is not None:
            _forget_if_unused(grant)
        message = "Ontkoppeld; tokens en webhook verwijderd"
        if problem:
            message += f" (webhook kon niet bij het pakket worden verwijderd: {problem})"
        events.record(session, "connection.disconnected", message, company_id=company_id,
                      actor=actor, subject_type="connection", subject_id=connection_id)
