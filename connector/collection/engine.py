"""The pre-incasso engine: plan the next step of every case and send the ones that are due.

One run per company: open and refresh cases from the mirror (no API calls), plan deliveries
(one message per debtor, channel and day, listing each invoice), and — only when the company is
live or a step was approved — send what is due inside the contact windows. Right before a send
every invoice in it is re-read from the ledger; anything changed means the step is not sent.
A delivery is committed as ``sending`` before the channel is called, so a crash can leave it
ambiguous but never makes a second message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector import events, notify
from connector.budgets import Lane, budget_lane
from connector.channels.base import ChannelRejected, ChannelUncertain
from connector.clock import AMSTERDAM
from connector.collection import legal
from connector.collection.cases import (
    active_holds,
    close_case,
    open_new_cases,
    policy_for,
    refresh_cases,
    settings_for,
)
from connector.collection.composing import EMAIL_CHANNELS, compose
from connector.collection.finishing import (
    MAX_TEMPORARY_FAILURES,
    NOTE_CHANNELS,
    advance_case,
    finish_delivery,
    in_print_queue,
    is_payment_term_letter,
    put_on_call_list,
    retry_later,
    skip_delivery,
    skip_step,
    step_fee,
)
from connector.collection.messages import TemplateFailed
from connector.collection.planning import (
    SENDING_LEASE,
    handover_due,
    local_today,
    mark_lost_sends_ambiguous,
    plan,
)
from connector.collection.policy import CONTACT_CHANNELS
from connector.collection.stamp_step import (
    LedgerReminderChannel,
    channel_problem,
    fetch_invoice_pdfs,
    own_page,
    plan_stamp,
    with_invoice_pdfs,
)
from connector.debtor_page.responses import check_plans
from connector.models import (
    Company,
    Delivery,
    DeliveryCase,
    DeliveryState,
    utcnow,
)
from connector.pacing import Pacer, send_cost
from connector.partner import current_partner
from connector.services import NotConnected, Services
from providers.base import InvoiceStatus, LedgerError

log = logging.getLogger(__name__)
# A nudge that cannot reach the debtor (no valid mobile number) is skipped, not retried daily.
SKIPPABLE_CHANNELS = frozenset({"sms", "whatsapp"})

# The engine's parts, one job each; their public names are the engine's too (callers and
# tests import them from here).
__all__ = [
    "EMAIL_CHANNELS", "MAX_TEMPORARY_FAILURES", "NOTE_CHANNELS", "SENDING_LEASE", "RunResult",
    "advance_case", "approve", "compose", "finish_delivery", "handover_due", "in_print_queue",
    "is_payment_term_letter", "local_today", "mark_lost_sends_ambiguous", "plan",
    "put_on_call_list", "retry_later", "run_company", "send_due", "sendable", "skip_delivery",
    "skip_step", "step_fee",
]


@dataclass
class RunResult:
    opened: int = 0
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    postponed: int = 0
    failed: int = 0
    to_call: int = 0  # call steps put on the operators' call list
    waiting: int = 0  # due, but left for the next window of the API budget (or a payment check)


def run_company(services: Services, company_id: str, now: datetime | None = None) -> RunResult:
    """One engine cycle for one company."""
    now = now or utcnow()
    today = local_today(now)
    result = RunResult()
    with services.db.session() as session:
        policy = policy_for(session, company_id)
        result.opened = len(open_new_cases(session, company_id, today, policy))
        refresh_cases(session, company_id, today)
        check_plans(session, company_id, today)  # a missed term of a payment plan resumes
        mark_lost_sends_ambiguous(session, company_id, now)
        handover_due(session, company_id, today, policy)
        result.planned = plan(session, company_id, today, policy)
    send_due(services, company_id, now, result)
    return result


def approve(session: Session, delivery: Delivery, actor: str) -> None:
    delivery.approved_by = actor
    events.record(
        session,
        "step.approved",
        f"Stap '{delivery.step_name}' goedgekeurd",
        company_id=delivery.company_id,
        actor=actor,
        subject_type="delivery",
        subject_id=delivery.id,
    )


def sendable(session: Session, company_id: str, today: date) -> list[str]:
    """The deliveries the engine would send now if the budget had room for them all."""
    return _sendable(session, company_id, today)


def _sendable(session: Session, company_id: str, today: date) -> list[str]:
    live = settings_for(session, company_id).live
    query = (
        select(Delivery.id)
        .where(
            Delivery.company_id == company_id,
            Delivery.state == DeliveryState.PLANNED.value,
            Delivery.due_on <= today,
        )
        .order_by(Delivery.due_on, Delivery.created_at)
    )
    ids = []
    for delivery in session.scalars(select(Delivery).where(Delivery.id.in_(query))):
        approved = delivery.approved_by is not None
        if approved or (live and not delivery.needs_approval):
            ids.append(delivery.id)
    return ids


def _contacted_today(session: Session, debtor_id: str, today: date) -> bool:
    start = datetime.combine(today, datetime.min.time(), AMSTERDAM)
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.debtor_id == debtor_id,
                Delivery.channel.in_(list(CONTACT_CHANNELS)),
                Delivery.state.in_(
                    [
                        DeliveryState.SENT.value,
                        DeliveryState.SENDING.value,
                        DeliveryState.AMBIGUOUS.value,
                    ]
                ),
                Delivery.sending_at >= start,
                Delivery.sending_at < start + timedelta(days=1),
                Delivery.bounced_at.is_(None),  # a bounced e-mail never reached the debtor
            )
        )
    )


def send_due(services: Services, company_id: str, now: datetime, result: RunResult) -> None:
    """Send what is due, as far as the budget can re-check and write back in this window.

    Stops early when a payment check waits for this company (a webhook asked for a sync): the
    lease goes back so the sync runs now, and sending goes on after it.
    """
    today = local_today(now)
    started = utcnow()
    with services.db.session() as session:
        due = _sendable(session, company_id, today)
        costs = _costs(session, due)
        pacer = Pacer.for_company(services, session, company_id) if due else None
    for index, delivery_id in enumerate(due):
        if _payment_check_asked(services, company_id, since=started):
            result.waiting += len(due) - index
            break
        if pacer is not None and not pacer.allows(costs.get(delivery_id, 0)):
            result.waiting += len(due) - index
            log.info("company %s: %s sends wait for the budget (next round %s)",
                     company_id, len(due) - index, pacer.next_round)
            break
        outcome = _send_one(services, delivery_id, now)
        setattr(result, outcome, getattr(result, outcome) + 1)


def _costs(session: Session, delivery_ids: list[str]) -> dict[str, int]:
    """The API calls each delivery will cost (see connector.pacing.send_cost)."""
    costs: dict[str, int] = {}
    for start in range(0, len(delivery_ids), 500):
        rows = session.execute(
            select(Delivery.id, Delivery.channel, Delivery.step, func.count(DeliveryCase.case_id))
            .join(DeliveryCase, DeliveryCase.delivery_id == Delivery.id)
            .where(Delivery.id.in_(delivery_ids[start:start + 500]))
            .group_by(Delivery.id, Delivery.channel, Delivery.step)).all()
        for delivery_id, channel, step, invoices in rows:
            costs[delivery_id] = send_cost(invoices, first_step=step == 0, channel=channel)
    return costs


def _payment_check_asked(services: Services, company_id: str, since: datetime) -> bool:
    """A webhook (or a person) asked for a sync of this company since ``since``."""
    with services.db.session() as session:
        asked = session.scalar(select(Company.sync_requested_at).where(Company.id == company_id))
    return asked is not None and asked > since


def _send_one(services: Services, delivery_id: str, now: datetime) -> str:
    today = local_today(now)
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery.channel in CONTACT_CHANNELS:
            if not legal.may_contact(now):
                return "postponed"  # outside the contact window: the next run tries again
            if _contacted_today(session, delivery.debtor_id, today):
                delivery.due_on = today + timedelta(days=1)
                events.record(
                    session,
                    "step.postponed",
                    f"Stap '{delivery.step_name}' naar morgen: vandaag al contact",
                    company_id=delivery.company_id,
                    subject_type="delivery",
                    subject_id=delivery.id,
                )
                return "postponed"
        company = session.get(Company, delivery.company_id)
        company_id = company.id
        try:
            ledger = services.ledger_for(company)
        except NotConnected:
            return "postponed"
        cases = [link.case for link in delivery.cases]
        external = {c.id: c.invoice.external_id for c in cases}
        capabilities = services.provider_for(company.provider).info.capabilities
        stamp = plan_stamp(session, delivery, ledger, capabilities)

    # Just in time: re-read every invoice from the ledger right before anything goes out.
    # It is a payment check: it goes in the first lane, which always has room.
    try:
        with budget_lane(Lane.PAYMENT_CHECK):
            fresh = {case_id: ledger.invoice(ext) for case_id, ext in external.items()}
    except LedgerError as exc:
        # Nothing went out: the delivery stays planned for the next run. A dead grant is
        # marked and the creditor told, as the sync does (then later runs wait for it).
        log.warning("just-in-time check failed for delivery %s: %s", delivery_id, exc)
        notify.report_dead_grant_of(services, company_id, exc)
        return "postponed"
    # The stamp step stamps the ledger's own invoice PDFs where the platform has them. The
    # pacer admitted this send with its calls: they spend like the writes it causes (lane 3),
    # so a busy window does not take the PDF out of a message already on its way.
    with budget_lane(Lane.LEDGER_WRITE):
        pdfs, pdf_problem = (fetch_invoice_pdfs(ledger, external) if stamp.want_pdfs
                             else ({}, None))

    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        changes = _apply_fresh(session, delivery, fresh)
        if changes:
            delivery.state, delivery.skip_reason = DeliveryState.SKIPPED.value, "; ".join(changes)
            for link in list(delivery.cases):
                delivery.cases.remove(link)
            events.record(
                session,
                "step.skipped",
                f"Stap '{delivery.step_name}' niet verstuurd: {'; '.join(changes)}",
                company_id=delivery.company_id,
                subject_type="delivery",
                subject_id=delivery.id,
            )
            return "skipped"
        try:
            partner = current_partner(session, services.settings).name
            message = compose(session, delivery, today, partner, services.settings)
        except (TemplateFailed, ValueError) as exc:
            delivery.state, delivery.skip_reason = DeliveryState.FAILED.value, str(exc)[:200]
            events.record(
                session,
                "step.failed",
                f"Stap '{delivery.step_name}' niet verstuurd: {exc}",
                company_id=delivery.company_id,
                subject_type="delivery",
                subject_id=delivery.id,
            )
            return "failed"
        if delivery.channel == "call":
            return put_on_call_list(session, delivery, today)
        message = with_invoice_pdfs(session, delivery, message, pdfs, pdf_problem)
        delivery.state, delivery.sending_at = DeliveryState.SENDING.value, utcnow()
    # Committed as "sending": from here a crash leaves it ambiguous, never sent twice.

    channel = services.channels[message.channel]
    if stamp.via_ledger and message.channel == "stamp":
        channel = LedgerReminderChannel(
            ledger, list(external.values()),
            on_dead_grant=lambda exc: notify.report_dead_grant_of(services, company_id,
                                                                         exc))
    try:
        with budget_lane(Lane.LEDGER_WRITE):
            reference = channel.send(message)
    except ChannelRejected as exc:
        if exc.temporary:
            return retry_later(services, delivery_id, str(exc))
        if message.channel in SKIPPABLE_CHANNELS:
            return skip_step(services, delivery_id, str(exc), today)
        return finish_delivery(services, delivery_id, DeliveryState.FAILED, str(exc), today)
    except ChannelUncertain as exc:
        return finish_delivery(services, delivery_id, DeliveryState.AMBIGUOUS, str(exc), today)
    if problem := channel_problem(channel, delivery_id):
        with services.db.session() as session:
            own_page(session, session.get(Delivery, delivery_id), problem)
    return finish_delivery(services, delivery_id, DeliveryState.SENT, reference, today)


def _apply_fresh(session: Session, delivery: Delivery, fresh: dict) -> list[str]:
    """Bring the mirror up to date with what the ledger says now; list what changed."""
    changes = []
    for link in delivery.cases:
        case, record = link.case, fresh[link.case_id]
        invoice = case.invoice
        label = invoice.number or invoice.external_id
        if record.status != InvoiceStatus.OPEN:
            invoice.status, invoice.open_amount = record.status.value, record.open_amount
            invoice.ledger_state, invoice.version = record.ledger_state, record.version
            invoice.closed_at = utcnow()
            close_case(session, case, record.status.value, actor="system")
            changes.append(f"factuur {label} is {record.status.value}")
        elif record.open_amount != invoice.open_amount or record.open_amount != link.amount:
            invoice.open_amount, invoice.version = record.open_amount, record.version
            case.principal = record.open_amount
            changes.append(f"bedrag van factuur {label} gewijzigd")
        elif active_holds(session, case):
            changes.append(f"factuur {label} staat on hold")
    return changes
