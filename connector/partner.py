"""The collection partner's identity: whose letterhead and stamp the steps carry.

Install-wide. The environment variables (``PARTNER_*``) give the first values; an operator can
change them on the console, and what is saved there wins. Read fresh for every message, so a
change reaches the next letter without a restart.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.orm import Session

from connector import events
from connector.channels.letter import PartnerIdentity
from connector.channels.setup import partner_identity
from connector.config import Settings
from connector.models import PartnerSettings

EDITABLE = ("name", "address_lines", "wki_number", "kvk", "phone", "email", "website",
            "complaints", "complaints_en")


def current_partner(session: Session, settings: Settings) -> PartnerIdentity:
    """The identity in use now: the saved one over the environment defaults."""
    base = partner_identity(settings)
    row = session.get(PartnerSettings, 1)
    if row is None or not row.identity:
        return base
    saved: dict[str, Any] = {k: v for k, v in row.identity.items() if k in EDITABLE and v}
    if "address_lines" in saved:
        saved["address_lines"] = tuple(saved["address_lines"])
    return replace(base, **saved)


def save_partner(session: Session, identity: PartnerIdentity, actor: str) -> None:
    data = asdict(identity)
    data["address_lines"] = list(identity.address_lines)
    row = session.get(PartnerSettings, 1)
    if row is None:
        row = PartnerSettings(id=1, identity={}, updated_by=actor)
        session.add(row)
    row.identity = {k: data[k] for k in EDITABLE}
    row.updated_by = actor
    events.record(session, "partner.updated", "Gegevens van de incassopartner gewijzigd",
                  actor=actor)
