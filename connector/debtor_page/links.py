"""The link behind every message: a long random token per delivery, stored only as a hash.

The token is ``HMAC(secret key, link id + random salt)``, 128 bits in 22 URL-safe characters:
unguessable without the app's secret, recomputable by the app (so the demo, a re-rendered
letter and its QR code show the same link) and never stored: the database holds its SHA-256
only. A link answers while any of its cases is open and for :data:`GRACE_AFTER_CLOSE` after the
last one ended; anything else (unknown, expired, a delivery that never went out) gets the same
neutral page as a token that never existed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from connector.models import (
    Case,
    CaseState,
    DebtorLink,
    Delivery,
    DeliveryState,
    Hold,
    HoldKind,
    utcnow,
)

GRACE_AFTER_CLOSE = timedelta(weeks=6)
MAX_AGE = timedelta(days=400)  # a case open longer than a year still ends its links
TOKEN_BYTES = 16
PATH = "/b/"
# A delivery the debtor may have received: only those have a page.
REACHED_STATES = frozenset({DeliveryState.SENT.value, DeliveryState.SENDING.value,
                            DeliveryState.AMBIGUOUS.value, DeliveryState.CALLING.value})


def token_for(link: DebtorLink, secret_key: str) -> str:
    mac = hmac.new(secret_key.encode(), f"debtor-link|{link.id}|{link.salt}".encode(),
                   hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def link_for(session: Session, delivery: Delivery, secret_key: str) -> DebtorLink:
    """The delivery's link, made on first use (its token hash stored, never the token)."""
    link = session.scalars(select(DebtorLink).where(DebtorLink.delivery_id == delivery.id)
                           ).one_or_none()
    if link is None:
        link = DebtorLink(company_id=delivery.company_id, delivery_id=delivery.id,
                          debtor_id=delivery.debtor_id, salt=secrets.token_hex(16),
                          token_hash="")
        session.add(link)
        session.flush()  # the id is part of the token
        link.token_hash = token_hash(token_for(link, secret_key))
        session.flush()
    return link


def url_for_delivery(session: Session, delivery: Delivery, public_url: str,
                     secret_key: str) -> str:
    """The short link printed in the message: ``<public url>/b/<token>``."""
    link = link_for(session, delivery, secret_key)
    return f"{public_url.rstrip('/')}{PATH}{token_for(link, secret_key)}"


def url_of(link: DebtorLink, public_url: str, secret_key: str) -> str:
    return f"{public_url.rstrip('/')}{PATH}{token_for(link, secret_key)}"


def _valid_token_shape(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


def _ended_at(session: Session | None, case: Case, fallback: datetime) -> datetime | None:
    """When pre-incasso ended for this case (closed, or handed over), None while it runs."""
    if case.state == CaseState.CLOSED.value:
        return case.closed_at or fallback
    if case.state == CaseState.HANDED_OVER.value and session is not None:
        handed = session.scalar(select(func.max(Hold.created_at)).where(
            Hold.case_id == case.id, Hold.kind == HoldKind.HANDOVER.value))
        return handed or fallback
    return None


def expires_at(link: DebtorLink) -> datetime:
    """When the link stops answering: some weeks after the last of its cases ended (closed or
    handed over), and never later than :data:`MAX_AGE` after it was made."""
    session = object_session(link)
    cases = [dc.case for dc in link.delivery.cases]
    hard = link.created_at + MAX_AGE
    if not cases:
        return min(link.created_at + GRACE_AFTER_CLOSE, hard)
    ends = [_ended_at(session, c, link.created_at) for c in cases]
    if any(end is None for end in ends):
        return hard
    return min(max(ends) + GRACE_AFTER_CLOSE, hard)


def find(session: Session, token: str, now: datetime | None = None) -> DebtorLink | None:
    """The live link for ``token``, or None for anything unknown, expired or not sent."""
    if not _valid_token_shape(token):
        return None
    link = session.scalars(select(DebtorLink).where(DebtorLink.token_hash == token_hash(token))
                           ).one_or_none()
    if link is None:
        return None
    delivery = link.delivery
    if (delivery.state not in REACHED_STATES or delivery.debtor_id != link.debtor_id
            or delivery.company_id != link.company_id):
        return None
    if (now or utcnow()) >= expires_at(link):
        return None
    return link
