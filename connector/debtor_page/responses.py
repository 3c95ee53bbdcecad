"""What a debtor answers on its page, and what that sets in motion.

Each answer places the hold that fits at once (the next step does not go out), writes one note
to the ledger per case through the outbox (keys made here, from the hold: deciding twice still
queues one write), goes into the case's event log and reaches the creditor by e-mail. One answer
per kind per delivery; a correction updates it, at most :data:`MAX_CORRECTIONS` times.

A payment plan is a proposal until the creditor or an operator accepts it (a payment-plan hold
with its terms) or refuses it (the case goes on). :func:`check_plans` resumes a case whose plan
missed a term.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.channels.base import ChannelRejected, ChannelUncertain
from connector.collection import legal
from connector.collection.cases import end_hold, place_hold, policy_for, settings_for
from connector.collection.policy import Policy
from connector.formatting import money, short_day
from connector.models import (
    Case,
    CaseState,
    DebtorResponse,
    Delivery,
    Hold,
    HoldKind,
    utcnow,
)

log = logging.getLogger(__name__)

KINDS = ("paid", "dispute", "plan", "callback")
MAX_CORRECTIONS = 3
MAX_TEXT = 2000
PAID_CHECK_DAYS = 10  # the bank transfer has this long to show in the ledger
PLAN_DECISION_DAYS = 14  # a proposal nobody answered lets the case go on after this
CALLBACK_DAYS_AHEAD = 14
# Call-back windows a debtor can choose, all inside the contact hours (legal-nl §4.2, §7.3).
_HOURS = (legal.CONTACT_FROM.strftime("%H:%M"), legal.CONTACT_UNTIL.strftime("%H:%M"))
CALLBACK_WINDOWS = tuple(
    w for w in (("09:00", "12:00"), ("12:00", "15:00"), ("15:00", "18:00"), ("18:00", "20:00"))
    if _HOURS[0] <= w[0] and w[1] <= _HOURS[1]
)
HOLD_FOR = {"paid": HoldKind.PAID_CHECK, "dispute": HoldKind.DISPUTE,
            "plan": HoldKind.PLAN_PROPOSAL, "callback": HoldKind.CALL_BACK}
LABELS = {"paid": "meldt al betaald te hebben", "dispute": "is het niet eens met de factuur",
          "plan": "stelt een betalingsregeling voor", "callback": "vraagt om teruggebeld te worden"}
ACTOR = "debiteur (debiteurpagina)"


class ResponseRefused(ValueError):
    """An answer that cannot be taken; ``code`` names the reason for the page's message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Answer:
    """A checked answer: what the form gave, in plain values."""

    kind: str
    data: dict
    text: str | None = None


def clean_text(value: str | None) -> str:
    """Free text as text: control characters out, length bounded (never HTML-stripped: it is
    escaped wherever it is shown)."""
    text = "".join(ch for ch in (value or "") if ch in "\n\t" or ch.isprintable())
    return text.strip()[:MAX_TEXT]


def plan_schedule(total: Decimal, terms: int, first_on: date, every_days: int
                  ) -> list[tuple[date, Decimal]]:
    """Equal terms (the last one takes the cents left over), every ``every_days`` days."""
    each = (total / terms).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    schedule = [(first_on + timedelta(days=every_days * i), each) for i in range(terms)]
    last_day, _ = schedule[-1]
    schedule[-1] = (last_day, total - each * (terms - 1))
    return schedule


def plan_problem(policy: Policy, terms: int, first_on: date, today: date) -> str | None:
    """Why a proposed plan is outside what the creditor's policy allows (a code), else None."""
    if not 2 <= terms <= policy.plan_max_terms:
        return "plan_terms"
    if not today <= first_on <= today + timedelta(days=policy.plan_first_within_days):
        return "plan_first"
    return None


def callback_problem(day: date, window: str, today: date) -> str | None:
    if window not in {f"{a}-{b}" for a, b in CALLBACK_WINDOWS}:
        return "callback_window"
    if not today < day <= today + timedelta(days=CALLBACK_DAYS_AHEAD) or not legal.is_contact_day(
            day):
        return "callback_day"
    return None


def open_cases(delivery: Delivery) -> list[Case]:
    return [link.case for link in delivery.cases
            if link.case.state in (CaseState.ACTIVE.value, CaseState.ON_HOLD.value)]


def _summary(answer: Answer) -> str:
    """The hold's reason and the ledger note's text (plain text; the debtor's words quoted)."""
    d = answer.data
    if answer.kind == "paid":
        text = f"Debiteur meldt via de debiteurpagina betaald te hebben op {d['paid_on_nl']}"
        if answer.text:
            text += f" (kenmerk: {answer.text[:80]})"
    elif answer.kind == "dispute":
        text = f"Debiteur betwist de factuur via de debiteurpagina: \"{(answer.text or '')[:150]}\""
    elif answer.kind == "plan":
        text = (f"Debiteur stelt via de debiteurpagina een betalingsregeling voor: "
                f"{d['terms']} termijnen, eerste op {d['first_on_nl']}; wacht op akkoord")
    else:
        text = (f"Debiteur vraagt via de debiteurpagina om terugbellen op {d['day_nl']} "
                f"tussen {d['window'].replace('-', ' en ')}")
    return text


def _hold_until(answer: Answer, today: date) -> date | None:
    if answer.kind == "paid":
        return today + timedelta(days=PAID_CHECK_DAYS)
    if answer.kind == "plan":
        return today + timedelta(days=PLAN_DECISION_DAYS)
    if answer.kind == "callback":
        return date.fromisoformat(answer.data["day"])
    return None  # a dispute waits for the creditor


def respond(session: Session, delivery: Delivery, answer: Answer, today: date
            ) -> DebtorResponse | None:
    """Record the debtor's answer on ``delivery``: hold, ledger note, log; a correction when
    an answer of this kind was given before. None when it is the same answer again (a resent
    form): nothing new happens. Raises :class:`ResponseRefused`."""
    if answer.kind not in KINDS:
        raise ResponseRefused("unknown")
    response = session.scalars(select(DebtorResponse).where(
        DebtorResponse.delivery_id == delivery.id, DebtorResponse.kind == answer.kind)
    ).one_or_none()
    correcting = response is not None
    if correcting:
        same = ({k: v for k, v in (response.data or {}).items() if k != "holds"} == answer.data
                and response.text == answer.text)
        if same:
            return None
        if response.corrections >= MAX_CORRECTIONS:
            raise ResponseRefused("too_many_corrections")
        if response.state in ("accepted", "refused"):
            raise ResponseRefused("decided")
        response.corrections += 1
    else:
        response = DebtorResponse(company_id=delivery.company_id, delivery_id=delivery.id,
                                  debtor_id=delivery.debtor_id, kind=answer.kind,
                                  state="proposed" if answer.kind == "plan" else "open")
        session.add(response)
    response.text = answer.text
    response.updated_at = utcnow()
    old_holds = [session.get(Hold, hold_id) for hold_id in (response.data or {}).get("holds", [])]
    reason = _summary(answer)
    until = _hold_until(answer, today)
    holds = []
    for case in open_cases(delivery):
        holds.append(place_hold(session, HOLD_FOR[answer.kind], reason, ACTOR, case=case,
                                until=until).id)
        label = case.invoice.number or case.invoice.external_id
        verb = "corrigeert" if correcting else "geeft antwoord"
        events.record(session, f"debtor.{answer.kind}",
                      f"Debiteur {verb} op de debiteurpagina voor factuur {label}: "
                      f"{LABELS[answer.kind]}", company_id=delivery.company_id, actor=ACTOR,
                      subject_type="case", subject_id=case.id, response=response.id)
    for hold in old_holds:  # the corrected answer's holds replace the earlier ones
        if hold is not None and hold.ended_at is None:
            hold.ended_at, hold.ended_reason = utcnow(), "gecorrigeerd door de debiteur"
    response.data = {**answer.data, "holds": holds}
    session.flush()
    return response


def decide_plan(session: Session, response: DebtorResponse, accept: bool, actor: str,
                today: date) -> None:
    """The creditor or an operator accepts (payment-plan hold with the terms) or refuses a
    proposed plan (the case goes on)."""
    if response.kind != "plan" or response.state != "proposed":
        raise ResponseRefused("decided")
    delivery = response.delivery
    cases = open_cases(delivery)
    proposal_holds = [h for h in (session.get(Hold, i) for i in response.data.get("holds", []))
                      if h is not None and h.ended_at is None]
    response.state = "accepted" if accept else "refused"
    response.decided_by, response.decided_at = actor, utcnow()
    data = dict(response.data)
    if accept:
        policy = policy_for(session, delivery.company_id)
        total = sum((c.invoice.open_amount for c in cases), Decimal("0"))
        schedule = plan_schedule(total, int(data["terms"]), date.fromisoformat(data["first_on"]),
                                 policy.plan_term_days)
        last = schedule[-1][0] + timedelta(days=policy.plan_grace_days + 1)
        terms_text = "; ".join(f"{short_day(d)} {money(a)}" for d, a in schedule)
        plan_holds = [place_hold(session, HoldKind.PAYMENT_PLAN,
                                 f"Betalingsregeling akkoord: {terms_text}"[:300], actor,
                                 case=case, until=last).id for case in cases]
        data.update(schedule=[[d.isoformat(), f"{a:.2f}"] for d, a in schedule],
                    plan_total=f"{total:.2f}", plan_holds=plan_holds)
    for hold in proposal_holds:
        end_hold(session, hold, actor, "betalingsregeling geaccepteerd" if accept
                 else "betalingsregeling afgewezen")
    response.data = data
    events.record(session, "debtor.plan." + response.state,
                  "Betalingsregeling " + ("geaccepteerd" if accept else "afgewezen"),
                  company_id=response.company_id, actor=actor, subject_type="case",
                  subject_id=cases[0].id if cases else None)


def missed_term(response: DebtorResponse, open_total: Decimal, today: date, grace_days: int
                ) -> date | None:
    """The first term of an accepted plan that is past its grace days and not paid."""
    paid = Decimal(response.data["plan_total"]) - open_total
    due = Decimal("0")
    for day_iso, amount in response.data.get("schedule", []):
        day = date.fromisoformat(day_iso)
        if day + timedelta(days=grace_days) >= today:
            break
        due += Decimal(amount)
        if paid < due:
            return day
    return None


def check_plans(session: Session, company_id: str, today: date) -> int:
    """Resume the cases of accepted plans that missed a term; returns how many plans."""
    policy = policy_for(session, company_id)
    missed = 0
    for response in session.scalars(select(DebtorResponse).where(
            DebtorResponse.company_id == company_id, DebtorResponse.kind == "plan",
            DebtorResponse.state == "accepted")):
        holds = [h for h in (session.get(Hold, i) for i in response.data.get("plan_holds", []))
                 if h is not None and h.ended_at is None]
        if not holds:
            continue
        cases = [session.get(Case, h.case_id) for h in holds]
        open_total = sum((c.invoice.open_amount for c in cases
                          if c.invoice.status == "open"), Decimal("0"))
        day = missed_term(response, open_total, today, policy.plan_grace_days)
        if day is None:
            continue
        for hold in holds:
            end_hold(session, hold, "system",
                     f"termijn van {short_day(day)} van de betalingsregeling gemist")
        response.state = "missed"
        missed += 1
    return missed


def alert_text(response: DebtorResponse, case_links: list[str]) -> tuple[str, str]:
    """Subject and text of the creditor's alert (the debtor's words quoted as plain text)."""
    debtor = response.debtor.name
    subject = f"Antwoord van een debiteur: {LABELS[response.kind]}"
    body = [f"{debtor} {LABELS[response.kind]} (via de debiteurpagina).", ""]
    d = response.data
    if response.kind == "paid":
        body.append(f"Betaald op: {d.get('paid_on_nl')}")
        if response.text:
            body.append(f"Kenmerk: {response.text}")
    elif response.kind == "dispute":
        body.append(f"Reden: {response.text}")
    elif response.kind == "plan":
        body.append(f"Voorstel: {d.get('terms')} termijnen, eerste op {d.get('first_on_nl')}.")
        body.append("Accepteer of wijs het voorstel af op de dossierpagina.")
    else:
        body.append(f"Terugbellen op {d.get('day_nl')} tussen {d.get('window')}.")
    body += ["", "De herinneringen voor deze factuur staan stil tot dit is afgehandeld.", "",
             *case_links]
    return subject, "\n".join(body) + "\n"


def alert_creditor(services, response_id: str) -> bool:
    """E-mail the creditor about an answer; True when it went out. Never raises for the
    channel: the answer is recorded either way and shows on the console."""
    email = services.channels.get("email")
    with services.db.session() as session:
        response = session.get(DebtorResponse, response_id)
        address = (settings_for(session, response.company_id).sender or {}).get("email")
        if not address or not hasattr(email, "send_notice"):
            return False
        links = [f"{services.settings.public_url}/companies/{response.company_id}/invoices/"
                 f"{link.case.invoice_id}" for link in response.delivery.cases]
        subject, text = alert_text(response, links)
        try:
            email.send_notice(address, subject, text)
        except (ChannelRejected, ChannelUncertain) as exc:
            log.warning("alert for response %s not sent: %s", response_id, exc)
            return False
        events.record(session, "debtor.alerted", "Schuldeiser per e-mail op de hoogte gebracht",
                      company_id=response.company_id, subject_type="delivery",
                      subject_id=response.delivery_id)
    return True
