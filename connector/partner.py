"""The collection partner's identity: whose letterhead and stamp the steps carry.

Install-wide. The environment variables (``PARTNER_*``) give the first values; an operator can
change them on the console, and what is saved there wins. Read fresh for every message, so a
change reaches the next letter without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.orm import Session

from connector import events
from connector.channels.documents import PartnerIdentity, logo_data_uri
from connector.channels.setup import partner_identity
from connector.config import Settings
from connector.db import Database
from connector.models import PartnerSettings

_saved_here = 0  # bumped by save_partner: this process sees its own change at once
EDITABLE = ("name", "address_lines", "wki_number", "kvk", "phone", "email", "website",
            "complaints", "complaints_en")


def current_partner(session: Session, settings: Settings) -> PartnerIdentity:
    """The identity in use now: the saved one over the environment defaults."""
    base = partner_identity(settings)
    row = session.get(PartnerSettings, 1)
    if row is None:
        return base
    saved: dict[str, Any] = {k: v for k, v in (row.identity or {}).items()
                             if k in EDITABLE and v}
    if "address_lines" in saved:
        saved["address_lines"] = tuple(saved["address_lines"])
    return replace(base, **saved, logo_uri=logo_data_uri(row.logo, row.logo_mime))


def _row(session: Session, actor: str) -> PartnerSettings:
    row = session.get(PartnerSettings, 1)
    if row is None:
        row = PartnerSettings(id=1, identity={}, updated_by=actor)
        session.add(row)
    return row


def save_partner(session: Session, identity: PartnerIdentity, actor: str) -> None:
    data = asdict(identity)
    data["address_lines"] = list(identity.address_lines)
    row = _row(session, actor)
    row.identity = {k: data[k] for k in EDITABLE}
    row.updated_by = actor
    events.record(session, "partner.updated", "Gegevens van de incassopartner gewijzigd",
                  actor=actor)
    _changed()


def save_partner_logo(session: Session, content: bytes | None, mime: str | None,
                      actor: str) -> None:
    """Store (or with ``None`` remove) the partner's logo; checked by the caller's form."""
    row = _row(session, actor)
    row.logo, row.logo_mime, row.updated_by = content, mime, actor
    events.record(session, "partner.logo", "Logo van de incassopartner "
                  + ("gewijzigd" if content else "verwijderd"), actor=actor)
    _changed()


def _changed() -> None:
    global _saved_here
    _saved_here += 1


class LivePartner:
    """The identity as the channels see it: whatever is saved now, read at most every
    ``ttl`` seconds (other processes' changes arrive within that), without a restart.

    Attribute access is passed to the current :class:`PartnerIdentity`, so a channel uses it
    exactly like a fixed identity.
    """

    def __init__(self, db: Database, settings: Settings, ttl: float = 30.0) -> None:
        self._db, self._settings, self._ttl = db, settings, ttl
        self._lock = threading.Lock()
        self._cached: tuple[int, float, PartnerIdentity] | None = None

    def current(self) -> PartnerIdentity:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None:
                generation, read_at, identity = self._cached
                if generation == _saved_here and now - read_at < self._ttl:
                    return identity
            generation = _saved_here
            with self._db.session() as session:
                identity = current_partner(session, self._settings)
            self._cached = (generation, now, identity)
            return identity

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)

    def __repr__(self) -> str:
        return "LivePartner()"
