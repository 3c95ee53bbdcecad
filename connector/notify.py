"""Telling a creditor once that its connection needs to be authorised again.

:func:`report_dead_grant` is the one reaction to a dead grant (see the table in
:mod:`connector.ledger_errors`): the sync, the outbox, the engine, the stamp step and the
keep-alive all call it, so the creditor gets the same e-mail once per grant, whoever found it.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from connector import events, ledger_errors
from connector.channels.base import ChannelRejected, ChannelUncertain
from connector.models import CollectionSettings, Company, Grant, utcnow
from connector.services import Services
from connector.tokens import mark_reconnect_needed, reconnect_reason
from providers.base import ReconnectRequired

log = logging.getLogger(__name__)
#: The creditor's switch for this notice (on the settings page with the other alerts).
RECONNECT_SWITCH = "reconnect_needed"


def _notice_address(session: Session, company_id: str) -> str | None:
    """Where the creditor wants this notice, or None (no address known, or switched off).

    Read without :func:`connector.collection.cases.settings_for`: this module is imported by
    the outbox, which that module imports (a missing settings row means no address anyway).
    """
    settings = session.get(CollectionSettings, company_id)
    if settings is None or not (settings.alerts or {}).get(RECONNECT_SWITCH, True):
        return None
    return (settings.sender or {}).get("email") or None


def notify_reconnect(services: Services, session: Session, grant: Grant) -> bool:
    """E-mail the creditor once per grant; True when a notice went out."""
    email = services.channels.get("email")
    if grant.reconnect_notified_at is not None or not hasattr(email, "send_notice"):
        return False
    sent = False
    for connection in grant.connections:
        if connection.disconnected_at is not None:
            continue
        address = _notice_address(session, connection.company_id)
        if not address:
            continue
        link = f"{services.settings.public_url}/companies/{connection.company_id}"
        try:
            email.send_notice(
                address, "Koppeling met uw boekhoudpakket opnieuw nodig",
                f"De koppeling van {connection.tenant_name} werkt niet meer: "
                f"{grant.status_reason or 'de toegang is ingetrokken of verlopen'}\n\n"
                f"Zolang u niet opnieuw koppelt, synchroniseren wij niet en gaan er geen "
                f"herinneringen uit. Koppel opnieuw via {link}\n")
        except (ChannelRejected, ChannelUncertain) as exc:
            log.warning("reconnect notice for company %s not sent: %s",
                        connection.company_id, exc)
            continue
        events.record(session, "connection.reconnect_notified",
                      "Schuldeiser per e-mail gevraagd opnieuw te koppelen",
                      company_id=connection.company_id)
        sent = True
    grant.reconnect_notified_at = utcnow()  # once, also when no address was known
    return sent


def report_dead_grant(services: Services, session: Session, company: Company,
                      exc: BaseException) -> bool:
    """Mark the company's grant as needing a reconnect (with the reason the creditor reads)
    and e-mail the creditor, once per grant. True when the grant was there to mark.

    Every place that finds a dead grant calls this, so the creditor hears it the same way
    whether a sync, a ledger write, a send or the keep-alive ran into it.
    """
    if not ledger_errors.reaction_for(exc).reconnect or not isinstance(exc, ReconnectRequired):
        return False
    connection = company.connection
    grant = connection.grant if connection is not None else None
    if grant is None:
        return False
    mark_reconnect_needed(session, grant, reconnect_reason(exc))
    notify_reconnect(services, session, grant)
    log.warning("company %s: ledger grant needs a reconnect", company.id)
    return True


def report_dead_grant_of(services: Services, company_id: str, exc: BaseException) -> bool:
    """:func:`report_dead_grant` in a transaction of its own."""
    if not ledger_errors.reaction_for(exc).reconnect:
        return False
    with services.db.session() as session:
        company = session.get(Company, company_id)
        return company is not None and report_dead_grant(services, session, company, exc)
