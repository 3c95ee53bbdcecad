"""Telling a creditor once that its connection needs to be authorised again."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from connector import alerts, events
from connector.channels.base import ChannelRejected, ChannelUncertain
from connector.collection.cases import settings_for
from connector.models import Grant, utcnow
from connector.services import Services

log = logging.getLogger(__name__)


def notify_reconnect(services: Services, session: Session, grant: Grant) -> bool:
    """E-mail the creditor once per grant; True when a notice went out."""
    email = services.channels.get("email")
    if grant.reconnect_notified_at is not None or not hasattr(email, "send_notice"):
        return False
    sent = False
    for connection in grant.connections:
        if connection.disconnected_at is not None:
            continue
        address = (settings_for(session, connection.company_id).sender or {}).get("email")
        if not address or not alerts.enabled(session, connection.company_id, alerts.RECONNECT):
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
