"""How far today's sending got: "37 van 156 herinneringen verstuurd", from the deliveries.

After going live, or after approving many steps at once, the worker sends what is due over
minutes (the platform's rate limit paces it). The creditor watches it go: *sent* counts the
messages that went out today (sent or possibly sent), *failed* those the channel refused
today, *waiting* those due now that the engine will send (the same rule as the engine's
``sendable``) plus those being handed over right now. Steps skipped just in time (paid
meanwhile) drop out of the total. Calls and hand-overs are not messages and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.collection import legal
from connector.collection.engine import local_today, sendable
from connector.formatting import AMSTERDAM
from connector.models import Connection, Delivery, DeliveryState

MESSAGE_CHANNELS = ("stamp", "letter", "email", "sms", "whatsapp")
_WENT_OUT = (DeliveryState.SENT.value, DeliveryState.AMBIGUOUS.value)


@dataclass(frozen=True)
class SendProgress:
    sent: int
    failed: int
    waiting: int
    resumes_at: datetime | None = None  # outside the contact window: when sending goes on

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.waiting

    @property
    def running(self) -> bool:
        return self.waiting > 0


def send_progress(db: Session, company_id: str, now: datetime) -> SendProgress:
    today = local_today(now)
    start = datetime.combine(today, time.min, AMSTERDAM)
    connection = db.scalar(select(Connection).where(Connection.company_id == company_id))
    # Disconnected or waiting for a new grant: nothing goes out (the page says why), so
    # nothing is shown as waiting to go.
    due = (sendable(db, company_id, today)
           if connection is not None and connection.status == "active" else [])
    waiting = 0
    for offset in range(0, len(due), 500):
        waiting += db.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.id.in_(due[offset:offset + 500]),
            Delivery.channel.in_(MESSAGE_CHANNELS))) or 0
    counts = dict(db.execute(
        select(Delivery.state, func.count()).where(
            Delivery.company_id == company_id, Delivery.channel.in_(MESSAGE_CHANNELS),
            (Delivery.state == DeliveryState.SENDING.value) | (Delivery.sending_at >= start),
            Delivery.state.in_([*_WENT_OUT, DeliveryState.FAILED.value,
                                DeliveryState.SENDING.value]))
        .group_by(Delivery.state)).all())
    waiting += counts.get(DeliveryState.SENDING.value, 0)
    resumes_at = None
    if waiting and not legal.may_contact(now):
        resumes_at = legal.next_contact_moment(now)
    return SendProgress(sent=sum(counts.get(s, 0) for s in _WENT_OUT),
                        failed=counts.get(DeliveryState.FAILED.value, 0), waiting=waiting,
                        resumes_at=resumes_at)


__all__ = ["MESSAGE_CHANNELS", "SendProgress", "send_progress"]
