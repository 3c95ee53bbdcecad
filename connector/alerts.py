"""E-mail alerts and the weekly summary for creditors, each switchable per company (#16).

Alerts come from the event log, so the engine needs no extra calls: a failed step
(``step.failed``), a dispute (``hold.dispute``), a broken promise (a promise hold ended
"niet nagekomen") become alerts the next time the worker's alert job runs. Other code asks for
one directly with :func:`send` (e.g. a debtor's answer): it records an ``alert.requested``
event in the caller's transaction, sent by the same job.

The job groups what is new per company and kind into one e-mail (fifty failed steps are one
message, not fifty), and each alert's key is stored in ``alerts_sent`` (primary key) before the
mail goes out: two workers never send the same alert, and a crash loses an alert rather than
sending it twice. "Reconnect needed" is the existing notice of :mod:`connector.notify`; its
switch lives here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import events
from connector.channels.base import ChannelRejected, ChannelUncertain
from connector.channels.smtp_status import without_detail
from connector.clock import AMSTERDAM, today_nl
from connector.collection.cases import settings_for
from connector.formatting import money
from connector.models import (
    AlertSent,
    Company,
    Delivery,
    DeliveryState,
    Event,
    utcnow,
)
from connector.notify import RECONNECT_SWITCH
from connector.reports import loading
from connector.services import Services

log = logging.getLogger(__name__)

DISPUTE, PROMISE_BROKEN, STEP_FAILED, RECONNECT, WEEKLY, DEBTOR_ANSWER = (
    "dispute", "promise_broken", "step_failed", RECONNECT_SWITCH, "weekly_summary",
    "debtor_answer")
#: Every switch on the settings page, in its order; all are on until the creditor turns one off.
KINDS = (DISPUTE, PROMISE_BROKEN, STEP_FAILED, RECONNECT, WEEKLY)
SUBJECTS = {
    DISPUTE: "Een debiteur betwist een factuur",
    PROMISE_BROKEN: "Een betaalbelofte is niet nagekomen",
    STEP_FAILED: "Een stap kon niet worden verstuurd",
    RECONNECT: "Koppeling met uw boekhoudpakket opnieuw nodig",
    DEBTOR_ANSWER: "Een debiteur heeft gereageerd",
    WEEKLY: "Weekoverzicht pre-incasso",
}
LOOKBACK = timedelta(days=3)  # older events are not alerted any more (e.g. after an outage)
MAX_LINES = 20
WEEKLY_DAY, WEEKLY_HOUR = 0, 8  # Monday 08:00, Dutch time


def enabled(session: Session, company_id: str, kind: str) -> bool:
    """Whether this company wants this alert (a missing switch is on)."""
    switches = settings_for(session, company_id).alerts or {}
    return bool(switches.get(kind, True))


def set_switches(session: Session, company_id: str, wanted: dict[str, bool]) -> None:
    settings_for(session, company_id).alerts = {kind: bool(wanted.get(kind)) for kind in KINDS}


def send(session: Session, company: Company | str, kind: str, *, dedup: str | None = None,
         **facts: Any) -> None:
    """Ask for an alert to the creditor; the alert job e-mails it (once per ``dedup`` key).

    ``facts["text"]`` is the line the creditor reads (Dutch, no more debtor data than its own
    ledger holds). Recorded in the caller's transaction: rolled back with it.
    """
    company_id = company if isinstance(company, str) else company.id
    text = str(facts.pop("text", "") or SUBJECTS.get(kind, kind))
    events.record(session, "alert.requested", text, company_id=company_id,
                  subject_type="alert", subject_id=(dedup or "")[:64] or None, alert=kind,
                  **{k: str(v) for k, v in facts.items()})


# -- which events are alerts --------------------------------------------------------------


def alert_kind(event: Event) -> str | None:
    if event.kind == "step.failed":
        return STEP_FAILED
    if event.kind == "hold.dispute":
        return DISPUTE
    if event.kind == "hold.promise.ended" and "niet nagekomen" in event.message:
        return PROMISE_BROKEN
    if event.kind == "alert.requested":
        return str((event.data or {}).get("alert") or "") or None
    return None


def _key(event: Event, kind: str) -> str:
    if event.kind == "alert.requested" and event.subject_id:
        return f"{kind}:{event.company_id}:{event.subject_id}"[:120]
    return f"event:{event.id}"


def _claim(services: Services, company_id: str, kind: str, keys: list[str]) -> list[str]:
    """Store the keys not yet sent; returns those this call may send."""
    mine = []
    for key in keys:
        try:
            with services.db.session() as db:
                if db.get(AlertSent, key) is not None:
                    continue
                db.add(AlertSent(key=key, company_id=company_id, kind=kind))
            mine.append(key)
        except IntegrityError:  # another worker claimed it at the same moment
            continue
    return mine


@dataclass(frozen=True)
class Mail:
    company_id: str
    kind: str
    subject: str
    text: str
    keys: list[str]


def _recipient(session: Session, company_id: str) -> str | None:
    return (settings_for(session, company_id).sender or {}).get("email") or None


def _transmit(services: Services, session: Session, mail: Mail, address: str) -> bool:
    email = services.channels.get("email")
    if not hasattr(email, "send_notice"):
        return False
    try:
        email.send_notice(address, mail.subject, mail.text)
    except (ChannelRejected, ChannelUncertain) as exc:
        log.warning("alert %s for company %s not sent: %s", mail.kind, mail.company_id, exc)
        return False
    events.record(session, "alert.sent", f"E-mailmelding verstuurd: {mail.subject}",
                  company_id=mail.company_id, alert=mail.kind)
    return True


def _event_mails(services: Services, session: Session, now: datetime) -> list[Mail]:
    since = now - LOOKBACK
    found = session.scalars(
        select(Event).where(Event.at >= since, Event.company_id.is_not(None),
                            Event.kind.in_(["step.failed", "hold.dispute", "hold.promise.ended",
                                            "alert.requested"]))
        .order_by(Event.id))
    grouped: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in found:
        kind = alert_kind(event)
        if kind is not None:
            grouped[(event.company_id, kind)].append(event)
    mails = []
    link_base = services.settings.public_url
    for (company_id, kind), found_events in grouped.items():
        sent_keys = set(session.scalars(select(AlertSent.key).where(
            AlertSent.company_id == company_id,
            AlertSent.key.in_([_key(e, kind) for e in found_events]))))
        new = []
        for event in found_events:  # a key asked for twice is still one alert
            if _key(event, kind) not in sent_keys:
                sent_keys.add(_key(event, kind))
                new.append(event)
        if not new or not enabled(session, company_id, kind):
            continue
        company = session.get(Company, company_id)
        # The creditor's words: "(SMTP 550 5.1.1)" details are for operators (their console).
        lines = [f"- {without_detail(e.message)}" for e in new[:MAX_LINES]]
        if len(new) > MAX_LINES:
            lines.append(f"- en nog {len(new) - MAX_LINES} meer")
        text = (f"{SUBJECTS.get(kind, kind)} bij {company.name}:\n\n" + "\n".join(lines)
                + f"\n\nBekijk het in de connector: {link_base}/companies/{company_id}\n\n"
                "U krijgt deze melding omdat ze aan staat; zet ze uit bij Meldingen op de "
                "pagina van uw bedrijf.\n")
        mails.append(Mail(company_id, kind, f"{SUBJECTS.get(kind, kind)} · {company.name}",
                          text, [_key(e, kind) for e in new]))
    return mails


# -- the weekly summary ----------------------------------------------------------------------


def weekly_key(company_id: str, now: datetime) -> str:
    year, week, _day = now.astimezone(AMSTERDAM).isocalendar()
    return f"weekly:{company_id}:{year}-W{week:02d}"


def weekly_due(now: datetime) -> bool:
    local = now.astimezone(AMSTERDAM)
    return local.weekday() == WEEKLY_DAY and local.hour >= WEEKLY_HOUR


def weekly_text(session: Session, company: Company, now: datetime, public_url: str) -> str:
    """The summary's figures, from the same reports as the dashboard."""
    today = today_nl()
    board = loading.dashboard(session, [company.id], today)
    week_ago = now - timedelta(days=7)
    sent = len(session.scalars(select(Delivery.id).where(
        Delivery.company_id == company.id, Delivery.state == DeliveryState.SENT.value,
        Delivery.sent_at >= week_ago)).all())
    failed = len(session.scalars(select(Delivery.id).where(
        Delivery.company_id == company.id, Delivery.state == DeliveryState.FAILED.value)).all())
    running = sum(stage.count for stage in board.stages)
    recovery = board.recovery
    share = f" ({recovery.paid_percent} %)" if recovery.paid_percent is not None else ""
    return (
        f"Weekoverzicht pre-incasso voor {company.name}\n\n"
        f"Openstaand: {money(board.ageing.outstanding)}, waarvan achterstallig "
        f"{money(board.ageing.overdue)}\n"
        f"Lopende dossiers: {running}\n"
        f"Verstuurd afgelopen 7 dagen: {sent} stappen\n"
        f"Mislukte stappen die aandacht vragen: {failed}\n"
        f"Binnengekomen na pre-incasso: {money(recovery.paid_amount)}{share}\n"
        f"Kosten deze maand: {money(board.costs.amount)} excl. btw "
        f"({board.costs.count} stappen)\n\n"
        f"Het volledige overzicht: {public_url}/companies/{company.id}/dashboard\n\n"
        "U krijgt dit overzicht elke maandag; zet het uit bij Meldingen op de pagina van uw "
        "bedrijf.\n"
    )


def _weekly_mails(services: Services, session: Session, now: datetime) -> list[Mail]:
    if not weekly_due(now):
        return []
    mails = []
    for company in session.scalars(select(Company).order_by(Company.name)):
        key = weekly_key(company.id, now)
        if session.get(AlertSent, key) is not None or not enabled(session, company.id, WEEKLY):
            continue
        if company.connection is None or company.connection.status == "disconnected":
            continue
        mails.append(Mail(company.id, WEEKLY, f"{SUBJECTS[WEEKLY]} · {company.name}",
                          weekly_text(session, company, now, services.settings.public_url),
                          [key]))
    return mails


def run(services: Services, now: datetime | None = None) -> int:
    """The worker's alert job: send what is new, and the weekly summary when due. Returns how
    many e-mails went out."""
    now = now or utcnow()
    with services.db.session() as session:
        mails = _event_mails(services, session, now) + _weekly_mails(services, session, now)
    done = 0
    for mail in mails:
        with services.db.session() as session:
            address = _recipient(session, mail.company_id)
        if not address:
            continue  # nothing claimed: sent once the creditor fills in an address
        if not _claim(services, mail.company_id, mail.kind, mail.keys):
            continue
        with services.db.session() as session:
            done += _transmit(services, session, mail, address)
    return done
