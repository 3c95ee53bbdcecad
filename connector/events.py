"""Writing to the append-only event log.

Messages are for people reading the settings page: they name what happened and why, never a
token, and only as much debtor data as the creditor already has in its own ledger.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from connector.models import Event


def record(
    session: Session,
    kind: str,
    message: str,
    *,
    company_id: str | None = None,
    actor: str = "system",
    subject_type: str | None = None,
    subject_id: str | None = None,
    **data: Any,
) -> Event:
    event = Event(
        company_id=company_id,
        actor=actor,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        message=message[:500],
        data=data,
    )
    session.add(event)
    return event
