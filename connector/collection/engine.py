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
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from connector import events, writeback
from connector.budgets import Lane, budget_lane
from connector.channels.base import (
    ChannelRejected,
    ChannelUncertain,
    InvoiceLine,
    OutgoingMessage,
)
from connector.channels.email import valid_address
from connector.channels.letter import logo_data_uri
from connector.clock import AMSTERDAM
from connector.collection import legal
from connector.collection.bounces import bounce_of, finish_fallback
from connector.collection.cases import (
    active_holds,
    close_case,
    open_new_cases,
    policy_for,
    refresh_cases,
    settings_for,
)
from connector.collection.messages import (
    Rendered,
    TemplateFailed,
    build_context,
    message_language,
    render,
    text_problems,
)
from connector.collection.policy import CHANNEL_LABELS, CONTACT_CHANNELS, Policy, Step
from connector.collection.remake import finish_remake, remake_of
from connector.collection.stamp_step import (
    LedgerReminderChannel,
    channel_problem,
    fetch_invoice_pdfs,
    own_page,
    plan_stamp,
    with_invoice_pdfs,
)
from connector.config import Settings
from connector.debtor_page import links
from connector.debtor_page.messages import with_link
from connector.debtor_page.payment import grouped, rf_reference
from connector.debtor_page.responses import check_plans
from connector.formatting import money, short_day
from connector.models import (
    Case,
    CaseState,
    Company,
    CompanyTemplate,
    Debtor,
    Delivery,
    DeliveryCase,
    DeliveryState,
    Event,
    UsageLine,
    new_id,
    utcnow,
)
from connector.pacing import Pacer, send_cost
from connector.partner import current_partner
from connector.services import NotConnected, Services
from providers.base import InvoiceStatus, LedgerError

log = logging.getLogger(__name__)
SENDING_LEASE = timedelta(minutes=10)
# A channel that refuses for a passing reason (SMTP server down) is tried this often in all.
MAX_TEMPORARY_FAILURES = 5
# A nudge that cannot reach the debtor (no valid mobile number) is skipped, not retried daily.
SKIPPABLE_CHANNELS = frozenset({"sms", "whatsapp"})
EMAIL_CHANNELS = frozenset({"stamp", "email"})
NOTE_CHANNELS = {"stamp": "e-mail", "letter": "post en e-mail", "email": "e-mail", "sms": "sms",
                 "whatsapp": "WhatsApp"}


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


def local_today(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


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
        _mark_lost_sends_ambiguous(session, company_id, now)
        _handover_due(session, company_id, today, policy)
        result.planned = plan(session, company_id, today, policy)
    send_due(services, company_id, now, result)
    return result


# -- planning -------------------------------------------------------------------------------


def _step_due(case: Case, step: Step) -> date:
    base = (
        case.opened_on if step.after == "start" or case.last_step_on is None else case.last_step_on
    )
    return base + timedelta(days=step.delay_days)


def plan(session: Session, company_id: str, today: date, policy: Policy) -> int:
    """Give every active case a planned delivery for its next step (grouped per debtor/day).

    Written in bulk (one INSERT per table, ids made here), so 100,000 cases plan in seconds.
    """
    waiting = session.execute(
        select(Case.id, Case.debtor_id, Case.variant, Case.next_step, Case.opened_on,
               Case.last_step_on, Case.principal)
        .where(Case.company_id == company_id, Case.state == CaseState.ACTIVE.value)
    ).all()
    linked = set(
        session.scalars(
            select(DeliveryCase.case_id)
            .join(Delivery)
            .where(
                Delivery.company_id == company_id,
                Delivery.state.in_(
                    [
                        DeliveryState.PLANNED.value,
                        DeliveryState.SENDING.value,
                        DeliveryState.AMBIGUOUS.value,
                        DeliveryState.CALLING.value,
                        # a failed step waits for an operator (retry or skip), not for a
                        # replan that would fail again every run
                        DeliveryState.FAILED.value,
                    ]
                ),
            )
        )
    )
    open_deliveries = {
        (row.debtor_id, row.channel, row.template, row.due_on): row.id
        for row in session.execute(
            select(Delivery.id, Delivery.debtor_id, Delivery.channel, Delivery.template,
                   Delivery.due_on)
            .where(Delivery.company_id == company_id,
                   Delivery.state == DeliveryState.PLANNED.value)
        )
    }
    deliveries, links, planned = [], [], []
    for case in waiting:
        steps = policy.steps(case.variant)
        if case.id in linked or case.next_step >= len(steps):
            continue
        step = steps[case.next_step]
        if step.channel == "handover":
            continue  # not a message; see _handover_due
        due = max(_step_due(case, step), today)
        key = (case.debtor_id, step.channel, step.template, due)
        delivery_id = open_deliveries.get(key)
        if delivery_id is None:
            delivery_id = open_deliveries[key] = new_id()
            deliveries.append({
                "id": delivery_id, "company_id": company_id, "debtor_id": case.debtor_id,
                "step": case.next_step, "step_name": step.name, "channel": step.channel,
                "template": step.template, "due_on": due, "needs_approval": step.needs_approval,
            })
        links.append({"delivery_id": delivery_id, "case_id": case.id, "amount": case.principal})
        planned.append({
            "company_id": company_id, "actor": "system", "kind": "step.planned",
            "message": f"Stap '{step.name}' gepland op {short_day(due)}",
            "subject_type": "case", "subject_id": case.id,
        })
    for model, rows in ((Delivery, deliveries), (DeliveryCase, links), (Event, planned)):
        if rows:
            session.execute(insert(model), rows)
    return len(deliveries)


def _handover_due(session: Session, company_id: str, today: date, policy: Policy) -> None:
    """A case whose next step is the hand-over is ready once the legal term has passed."""
    for case in session.scalars(
        select(Case).where(Case.company_id == company_id, Case.state == CaseState.ACTIVE.value)
    ):
        steps = policy.steps(case.variant)
        if case.next_step >= len(steps) or steps[case.next_step].channel != "handover":
            continue
        if case.last_day_to_pay is not None and case.letter_posted_on is None:
            continue  # the letter is still in the print queue: its term has not started
        due = _step_due(case, steps[case.next_step])
        if case.costs_due_from is not None:
            due = max(due, case.costs_due_from)  # never before the 14-day term has run out
        if today < due:
            continue
        case.state = CaseState.READY_FOR_HANDOVER.value
        case.next_step += 1
        case.last_step_on = today
        label = case.invoice.number or case.invoice.external_id
        events.record(
            session,
            "case.ready_for_handover",
            f"Factuur {label} is klaar voor overdracht aan incasso",
            company_id=company_id,
            subject_type="case",
            subject_id=case.id,
        )
        writeback.queue_note(
            session,
            case.invoice,
            f"Pre-incasso {short_day(today)}: klaar voor overdracht aan incasso; "
            f"openstaand {money(case.principal)}.",
            key=writeback.derived_key("handover-ready", case.id),
        )


def _mark_lost_sends_ambiguous(session: Session, company_id: str, now: datetime) -> None:
    """A send that started and never finished may have gone out: never resend it blindly."""
    for delivery in session.scalars(
        select(Delivery).where(
            Delivery.company_id == company_id,
            Delivery.state == DeliveryState.SENDING.value,
            Delivery.sending_at < now - SENDING_LEASE,
        )
    ):
        delivery.state = DeliveryState.AMBIGUOUS.value
        events.record(
            session,
            "step.ambiguous",
            f"Stap '{delivery.step_name}' is mogelijk verstuurd (onderbroken); "
            "niet opnieuw verstuurd — controleer en bevestig",
            company_id=company_id,
            subject_type="delivery",
            subject_id=delivery.id,
        )


# -- sending --------------------------------------------------------------------------------


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
        log.warning("just-in-time check failed for delivery %s: %s", delivery_id, exc)
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
            message = _compose(session, delivery, today, partner, services.settings)
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
            return _put_on_call_list(session, delivery, today)
        message = with_invoice_pdfs(session, delivery, message, pdfs, pdf_problem)
        delivery.state, delivery.sending_at = DeliveryState.SENDING.value, utcnow()
    # Committed as "sending": from here a crash leaves it ambiguous, never sent twice.

    channel = services.channels[message.channel]
    if stamp.via_ledger and message.channel == "stamp":
        channel = LedgerReminderChannel(ledger, list(external.values()))
    try:
        with budget_lane(Lane.LEDGER_WRITE):
            reference = channel.send(message)
    except ChannelRejected as exc:
        if exc.temporary:
            return _retry_later(services, delivery_id, str(exc))
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


def in_print_queue(delivery: Delivery) -> bool:
    """A letter the letter channel queued for printing (not one only recorded)."""
    return delivery.channel == "letter" and (delivery.channel_ref or "").startswith("letter:")


def is_payment_term_letter(delivery: Delivery) -> bool:
    """The Profitletter sets the payment term (for consumers the 14-day letter); a stamped
    reminder that goes by post because there is no e-mail address does not."""
    return delivery.template.startswith("profitletter")


def _compose(session: Session, delivery: Delivery, today: date, partner: str,
             app_settings: Settings | None = None) -> OutgoingMessage:
    settings = settings_for(session, delivery.company_id)
    sender = settings.sender or {}
    debtor: Debtor = delivery.debtor
    company = session.get(Company, delivery.company_id)
    invoices = [link.case.invoice for link in delivery.cases]
    total = sum((link.case.principal for link in delivery.cases), Decimal("0"))
    creditor = sender.get("name") or company.name
    if delivery.channel in EMAIL_CHANNELS and not valid_address(debtor.email):
        # No e-mail address: the same reminder goes by post instead of not at all.
        delivery.channel = "letter"
        events.record(session, "step.fallback",
                      f"Stap '{delivery.step_name}': geen e-mailadres bekend, per post",
                      company_id=delivery.company_id, subject_type="delivery",
                      subject_id=delivery.id)
    if delivery.channel in ("letter", "stamp", "email", "whatsapp") and not sender.get("iban"):
        raise ValueError("het IBAN van de schuldeiser ontbreekt (instellingen van het bedrijf)")
    lang = message_language(settings.language, debtor.country)
    # The debtor's page behind this message (not for a call: nobody reads a link there).
    response_url = ""
    if app_settings is not None and delivery.channel != "call":
        response_url = links.url_for_delivery(session, delivery, app_settings.public_url,
                                              app_settings.secret_key)
    lines = [
        InvoiceLine(
            i.number or i.external_id,
            short_day(i.invoice_date) if i.invoice_date else "–",
            short_day(i.due_date) if i.due_date else "–",
            link.case.principal,
        )
        for i, link in zip(invoices, delivery.cases, strict=True)
    ]
    context, facts = build_context(
        template=delivery.template, lang=lang, debtor_kind=debtor.kind,
        recipient=(debtor.contact_person or debtor.name) if debtor.kind == "business"
        else debtor.name,
        creditor=creditor, creditor_contact=sender.get("phone") or sender.get("email") or "",
        iban=sender.get("iban", ""), partner=partner, invoices=lines, phone=debtor.phone,
        today=today, vat_increase=settings.vat_increase, response_url=response_url)
    if facts.bik is not None:
        delivery.bik_amount = facts.bik
    override = session.get(CompanyTemplate, (delivery.company_id, delivery.template, lang))
    rendered = render(delivery.template, delivery.channel, context, lang=lang,
                      source=override.body if override is not None else None)
    # A consumer letter that is not a valid 14-day letter would cost the creditor its right
    # to collection costs later: refuse it rather than send it.
    body = with_link(rendered.body, delivery.channel, response_url, lang)
    if body != rendered.body:
        rendered = Rendered(subject=rendered.subject, body=body)
    problems = text_problems(rendered.body, debtor_kind=debtor.kind, lang=lang, facts=facts,
                             vat_increase=settings.vat_increase)
    if problems:
        raise ValueError("tekst niet toegestaan: " + "; ".join(problems))
    delivery.total = total
    fallback_for = bounce_of(delivery)  # a letter for a bounced e-mail: no e-mail copy
    delivery.content = {**(delivery.content or {}), "subject": rendered.subject,
                        "body": rendered.body}
    if fallback_for:
        delivery.content["bounce_of"] = fallback_for
    return OutgoingMessage(
        delivery_id=delivery.id,
        channel=delivery.channel,
        template=delivery.template,
        debtor_kind=debtor.kind,
        recipient_name=debtor.name,
        creditor_name=creditor,
        subject=rendered.subject,
        body=rendered.body,
        invoices=tuple(context["invoices"]),
        total=total,
        email=None if fallback_for else debtor.email,
        phone=debtor.phone,
        postal_address=tuple(
            x
            for x in (
                debtor.name,
                debtor.address_line,
                f"{debtor.postal_code or ''} {debtor.city or ''}".strip(),
            )
            if x
        ),
        extra={
            key: value
            for key, value in {
                "iban": sender.get("iban", ""),
                "reference": context["reference"],
                "reply_to": sender.get("email", ""),
                "creditor_contact": context["creditor_contact"],
                "post_by": today.isoformat(),  # the term in the letter assumes posting today
                "lang": lang,
                "creditor_address": sender.get("address", ""),
                "creditor_kvk": sender.get("kvk", ""),
                "creditor_logo": logo_data_uri(settings.logo, settings.logo_mime),
                "response_url": response_url,
                # One invoice: its ISO 11649 reference (several: the invoice numbers above).
                "payment_reference": grouped(rf_reference(invoices[0]))
                if len(invoices) == 1 else "",
            }.items()
            if value
        },
    )


def finish_delivery(
    services: Services, delivery_id: str, state: DeliveryState, detail: str, today: date
) -> str:
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        delivery.state = state.value
        if state != DeliveryState.SENT:
            delivery.skip_reason = detail[:200]
            verdict = "mislukt" if state == DeliveryState.FAILED else "mogelijk verstuurd"
            events.record(
                session,
                f"step.{state.value}",
                f"Stap '{delivery.step_name}' {verdict}: {detail}"[:500],
                company_id=delivery.company_id,
                subject_type="delivery",
                subject_id=delivery.id,
            )
            return "failed"
        delivery.channel_ref, delivery.sent_at = detail[:200], utcnow()
        if original := bounce_of(delivery):
            # The post copy of a bounced e-mail: that step already counted (see bounces.py).
            finish_fallback(session, delivery, original, today)
            events.record(session, "step.sent",
                          f"Stap '{delivery.step_name}' per post verstuurd (e-mail kwam niet aan)",
                          company_id=delivery.company_id, subject_type="delivery",
                          subject_id=delivery.id)
            return "sent"
        if remake_of(delivery):
            finish_remake(session, delivery, today)  # replaces a letter: the step counted
            return "sent"
        policy = policy_for(session, delivery.company_id)
        for link in delivery.cases:
            advance_case(session, delivery, link.case, today)
        fee = step_fee(policy, delivery)
        if fee:
            session.add(
                UsageLine(
                    company_id=delivery.company_id,
                    delivery_id=delivery.id,
                    month=today.strftime("%Y-%m"),
                    amount=fee,
                    description=f"{delivery.step_name} — {delivery.debtor.name}",
                )
            )
        events.record(
            session,
            "step.sent",
            f"Stap '{delivery.step_name}' verstuurd ({CHANNEL_LABELS[delivery.channel]}"
            f", {len(delivery.cases)} factu{'ur' if len(delivery.cases) == 1 else 'ren'}"
            f", {money(delivery.total)})",
            company_id=delivery.company_id,
            subject_type="delivery",
            subject_id=delivery.id,
        )
    return "sent"


def _retry_later(services: Services, delivery_id: str, reason: str) -> str:
    """Nothing went out and the cause may pass: planned again for the next run, a few times."""
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        tries = int((delivery.content or {}).get("temporary_failures", 0)) + 1
        delivery.content = {**(delivery.content or {}), "temporary_failures": tries}
        if tries >= MAX_TEMPORARY_FAILURES:
            delivery.state, delivery.skip_reason = DeliveryState.FAILED.value, reason[:200]
            verdict = f"mislukt na {tries} pogingen"
        else:
            delivery.state, delivery.sending_at = DeliveryState.PLANNED.value, None
            verdict = f"niet gelukt (poging {tries}), wordt opnieuw geprobeerd"
        events.record(session, "step.retry" if tries < MAX_TEMPORARY_FAILURES else "step.failed",
                      f"Stap '{delivery.step_name}' {verdict}: {reason}"[:500],
                      company_id=delivery.company_id, subject_type="delivery",
                      subject_id=delivery.id)
    return "postponed" if tries < MAX_TEMPORARY_FAILURES else "failed"


def skip_step(services: Services, delivery_id: str, reason: str, today: date) -> str:
    """Nothing left; the step cannot be done for this debtor, so the case moves on."""
    with services.db.session() as session:
        skip_delivery(session, session.get(Delivery, delivery_id), reason, today)
    return "skipped"


def skip_delivery(session: Session, delivery: Delivery, reason: str, today: date, *,
                  actor: str = "system") -> None:
    """The step is left out for every case in the delivery; each case goes on with the next."""
    delivery.state, delivery.skip_reason = DeliveryState.SKIPPED.value, reason[:200]
    for link in delivery.cases:
        link.case.next_step += 1
        link.case.last_step_on = today
    events.record(session, "step.skipped",
                  f"Stap '{delivery.step_name}' overgeslagen: {reason}"[:500],
                  company_id=delivery.company_id, actor=actor, subject_type="delivery",
                  subject_id=delivery.id)


def advance_case(session: Session, delivery: Delivery, case: Case, today: date, *,
                 note: str | None = None) -> None:
    """The delivery's step is done for this case: count it, note it in the ledger.

    ``note`` replaces the standard ledger note (a call outcome says what was agreed); an empty
    string writes none (the outcome's hold writes its own).
    """
    if case.next_step == 0 and not case.invoice.ledger_paused:
        # The first step went out: from now on we chase, so the ledger's own reminders pause
        # (not at planning: in preview nothing reaches the debtor and theirs must go on).
        writeback.queue(session, case.invoice, "pause", key=writeback.derived_key("pause", case.id))
    case.next_step += 1
    case.last_step_on = today
    if is_payment_term_letter(delivery):
        # The letter states the term for posting today. A letter in the print queue counts as
        # posted once an operator marks it so (connector.collection.posting); until then the
        # hand-over waits.
        term = legal.term_for_letter(today)
        if not in_print_queue(delivery):
            case.letter_posted_on = today
        case.last_day_to_pay, case.costs_due_from = term.last_day_to_pay, term.costs_due_from
        case.bik_amount = delivery.bik_amount
    if note is not None:
        if note:
            writeback.queue_note(session, case.invoice, note,
                                 key=writeback.derived_key("step", delivery.id, case.id))
        return
    how = NOTE_CHANNELS.get(delivery.channel, delivery.channel)
    if delivery.channel == "letter" and not valid_address(delivery.debtor.email):
        how = "post"
    verb = "aan het belteam gegeven" if delivery.channel == "call" else f"verstuurd per {how}"
    text = (
        f"Pre-incasso {short_day(today)}: {delivery.step_name} {verb}; "
        f"openstaand {money(case.principal)}"
    )
    if case.last_day_to_pay and is_payment_term_letter(delivery):
        text += f"; betalen uiterlijk {short_day(case.last_day_to_pay)}"
    writeback.queue_step_note(
        session, case.invoice, text + ".", key=writeback.derived_key("step", delivery.id, case.id),
        step=delivery.step_name, how=how if delivery.channel != "call" else "telefoon",
        sent_on=today, amount=case.principal)


def _put_on_call_list(session: Session, delivery: Delivery, today: date) -> str:
    """A call step is done by a person: it waits on the call list for an outcome.

    Without a phone number nobody can call: the step is skipped and the case moves on.
    """
    if not (delivery.debtor.phone or "").strip():
        skip_delivery(session, delivery, "geen telefoonnummer bekend", today)
        return "skipped"
    delivery.state = DeliveryState.CALLING.value
    events.record(session, "step.calling", f"Stap '{delivery.step_name}' staat op de bellijst",
                  company_id=delivery.company_id, subject_type="delivery",
                  subject_id=delivery.id)
    return "to_call"


def step_fee(policy: Policy, delivery: Delivery) -> Decimal | None:
    variant = delivery.cases[0].case.variant if delivery.cases else "consumer"
    steps = policy.steps(variant)
    step = steps[delivery.step] if delivery.step < len(steps) else None
    return step.fee if step and step.fee > 0 else None
