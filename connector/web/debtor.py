"""The debtor's page, ``/b/<token>``: what the message showed, a way to pay, a way to answer.

No login: the token is the key (see :mod:`connector.debtor_page.links`). Every request is
counted per token and per client address first; an unknown, expired or foreign token gets the
same neutral page (404) as one that never existed, and counts as a miss for the client. Forms
carry a CSRF token; the debtor's free text is stored as text and escaped by Jinja wherever it
is shown. Nothing the debtor typed, nor the token, is written to a log.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.channels.documents import logo_data_uri
from connector.clock import today_nl
from connector.collection.cases import policy_for, settings_for
from connector.collection.messages import message_language
from connector.debtor_page import limits, links
from connector.debtor_page.payment import (
    PaymentBox,
    compact_iban,
    epc_svg,
    grouped,
    rf_reference,
)
from connector.debtor_page.responses import (
    CALLBACK_DAYS_AHEAD,
    CALLBACK_WINDOWS,
    KINDS,
    MAX_TEXT,
    Answer,
    ResponseRefused,
    alert_creditor,
    callback_problem,
    clean_text,
    open_cases,
    plan_problem,
    respond,
)
from connector.debtor_page.texts import Texts
from connector.formatting import money, short_day
from connector.models import DebtorLink, DebtorResponse, Delivery, utcnow
from connector.partner import current_partner
from connector.web.access import services

log = logging.getLogger(__name__)
bp = Blueprint("debtor", __name__, url_prefix="/b")
PAID_LOOKBACK_DAYS = 120
MAX_REFERENCE = 80


class CsrfForm(FlaskForm):
    """Only the CSRF token: the fields are read and checked below, with messages in the
    debtor's language."""


@dataclass
class FormState:
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    kind: str | None = None


def _limits() -> limits.Limits:
    return current_app.config.get("DEBTOR_LIMITS") or limits.Limits()


def _client() -> str:
    return request.remote_addr or "unknown"


def _lang(link: DebtorLink | None, session: Session | None) -> str:
    chosen = request.args.get("lang")
    if chosen in ("nl", "en"):
        return chosen
    if link is not None and session is not None:
        settings = settings_for(session, link.company_id)
        return message_language(settings.language, link.delivery.debtor.country)
    return request.accept_languages.best_match(["nl", "en"]) or "nl"


def _plain_page(template: str, status: int) -> ResponseReturnValue:
    t = Texts(_lang(None, None))
    response = current_app.make_response((render_template(template, t=t), status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def neutral() -> ResponseReturnValue:
    """The same page for every token that does not lead anywhere."""
    return _plain_page("web/debtor/neutral.html", 404)


def too_many() -> ResponseReturnValue:
    response = _plain_page("web/debtor/busy.html", 429)
    response.headers["Retry-After"] = str(int(_limits().window.total_seconds()))
    return response


def _gate(token: str, post: bool) -> ResponseReturnValue | None:
    if not limits.allowed(services().db, _limits(), client=_client(), token=token, post=post):
        return too_many()
    return None


def _miss() -> ResponseReturnValue:
    """An unknown, expired or foreign token: counted for the client, answered neutrally."""
    limits.record_miss(services().db, _client())
    return neutral()


@bp.get("/<token>")
def page(token: str) -> ResponseReturnValue:
    if (stop := _gate(token, post=False)) is not None:
        return stop
    with services().db.session() as session:
        link = links.find(session, token)
        if link is not None:
            link.last_seen_at = utcnow()  # when the debtor (last) opened it: evidence of receipt
            return _render(session, link, token, FormState())
    return _miss()


@bp.post("/<token>/<kind>")
def answer(token: str, kind: str) -> ResponseReturnValue:
    if (stop := _gate(token, post=True)) is not None:
        return stop
    with services().db.session() as session:
        link = links.find(session, token)
        if link is None or kind not in KINDS:
            found = link is not None
            session.rollback()
            return neutral() if found else _miss()
        t = _texts(session, link)
        state = FormState(kind=kind, values={k: v[:MAX_TEXT] for k, v in request.form.items()
                                             if k != "csrf_token"})
        if not CsrfForm().validate_on_submit():
            state.errors["form"] = t.err_form
            return _render(session, link, token, state, status=400)
        if not open_cases(link.delivery):
            state.errors["form"] = t.err_closed
            return _render(session, link, token, state, status=409)
        parsed = _parse(session, link, kind, t, state)
        if parsed is None:
            return _render(session, link, token, state, status=400)
        try:
            response = respond(session, link.delivery, parsed, today_nl())
        except ResponseRefused as exc:
            state.errors["form"] = t("err_" + exc.code) if exc.code in (
                "too_many_corrections", "decided") else t.err_form
            return _render(session, link, token, state, status=409)
        response_id = response.id if response is not None else None
    if response_id is not None:
        alert_creditor(services(), response_id)
    lang = request.args.get("lang")
    return redirect(url_for("debtor.page", token=token, done=kind,
                            **({"lang": lang} if lang in ("nl", "en") else {}),
                            _anchor="answer"), code=303)


def _date(value: str | None) -> date | None:
    text = (value or "").strip()
    for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"),
                           (r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", "dmy")):
        if match := re.fullmatch(pattern, text):
            a, b, c = (int(x) for x in match.groups())
            try:
                return date(a, b, c) if order == "ymd" else date(c, b, a)
            except ValueError:
                return None
    return None


def _parse(session: Session, link: DebtorLink, kind: str, t: Texts, state: FormState
           ) -> Answer | None:
    """The form's answer, or None with ``state.errors`` filled in (in the debtor's language)."""
    form, errors, today = request.form, state.errors, today_nl()
    if kind == "paid":
        paid_on = _date(form.get("paid_on"))
        reference = clean_text(form.get("reference"))
        if paid_on is None:
            errors["paid_on"] = t.err_date if form.get("paid_on") else t.err_required
        elif paid_on > today:
            errors["paid_on"] = t.err_paid_future
        elif paid_on < today - timedelta(days=PAID_LOOKBACK_DAYS):
            errors["paid_on"] = t.err_paid_old
        if len(reference) > MAX_REFERENCE:
            errors["reference"] = t("err_too_long", max=MAX_REFERENCE)
        if errors:
            return None
        return Answer("paid", {"paid_on": paid_on.isoformat(), "paid_on_nl": short_day(paid_on)},
                      reference or None)
    if kind == "dispute":
        raw = form.get("reason") or ""
        reason = clean_text(raw)
        if not reason:
            errors["reason"] = t.err_required
        elif len(raw.strip()) > MAX_TEXT:
            errors["reason"] = t("err_too_long", max=MAX_TEXT)
        return None if errors else Answer("dispute", {}, reason)
    if kind == "plan":
        policy = policy_for(session, link.company_id)
        last = today + timedelta(days=policy.plan_first_within_days)
        terms_text = (form.get("terms") or "").strip()
        first_on = _date(form.get("first_on"))
        terms = int(terms_text) if terms_text.isdigit() and len(terms_text) <= 3 else 0
        if first_on is None:
            errors["first_on"] = t.err_date if form.get("first_on") else t.err_required
        problem = plan_problem(policy, terms, first_on or today, today)
        if problem == "plan_terms":
            errors["terms"] = t("err_plan_terms", max=policy.plan_max_terms)
        elif problem == "plan_first" and first_on is not None:
            errors["first_on"] = t("err_plan_first", last=short_day(last))
        if errors:
            return None
        return Answer("plan", {"terms": terms, "first_on": first_on.isoformat(),
                               "first_on_nl": short_day(first_on)})
    day = _date(form.get("day"))
    window = form.get("window") or ""
    if day is None:
        errors["day"] = t.err_date if form.get("day") else t.err_required
    else:
        problem = callback_problem(day, window, today)
        if problem == "callback_window":
            errors["window"] = t.err_callback_window
        elif problem == "callback_day":
            errors["day"] = t.err_callback_day
    if errors:
        return None
    return Answer("callback", {"day": day.isoformat(), "day_nl": short_day(day),
                               "window": window})


def _texts(session: Session, link: DebtorLink) -> Texts:
    settings = settings_for(session, link.company_id)
    creditor = (settings.sender or {}).get("name") or link.delivery.debtor.name
    partner = current_partner(session, services().settings)
    return Texts(_lang(link, session), creditor=creditor, partner=partner.name)


def _render(session: Session, link: DebtorLink, token: str, state: FormState,
            status: int = 200) -> ResponseReturnValue:
    context = page_context(session, link, token)
    t = context["t"]
    done = request.args.get("done")
    response = current_app.make_response((render_template(
        "web/debtor/page.html", **context, state=state,
        done=t("done_" + done) if done in KINDS and not state.errors else None), status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def page_context(session: Session, link: DebtorLink, token: str) -> dict[str, Any]:
    """Only what the message showed: its invoices and amounts, the term, the creditor."""
    delivery: Delivery = link.delivery
    settings = settings_for(session, link.company_id)
    sender = settings.sender or {}
    partner = current_partner(session, services().settings)
    t = _texts(session, link)
    creditor = t.common["creditor"]
    policy = policy_for(session, link.company_id)
    today = today_nl()
    rows, boxes = [], []
    iban = compact_iban(sender.get("iban", ""))
    for dc in delivery.cases:
        invoice = dc.case.invoice
        amount = dc.amount if dc.amount is not None else dc.case.principal
        is_open = invoice.status == "open" and dc.case.state != "closed"
        rows.append({"number": invoice.number or invoice.external_id,
                     "invoice_date": short_day(invoice.invoice_date) if invoice.invoice_date
                     else "–",
                     "due_date": short_day(invoice.due_date) if invoice.due_date else "–",
                     "amount": money(amount), "open": is_open})
        if not is_open:
            continue
        # What is open now (a part payment since the message lowers it), never more than shown.
        due = min(amount, invoice.open_amount) if invoice.open_amount > 0 else amount
        box = PaymentBox(amount=Decimal(due), name=creditor, iban=iban,
                         reference=rf_reference(invoice),
                         invoice_number=invoice.number or invoice.external_id)
        boxes.append({
            "box": box, "amount": money(box.amount),
            "payment_url": invoice.payment_url if _http_url(invoice.payment_url) else None,
            "qr": epc_svg(box, title=t("qr_alt", amount=money(box.amount), iban=box.iban_grouped,
                                       reference=grouped(box.reference)))
            if iban else None,
            "qr_alt": t("qr_alt", amount=money(box.amount), iban=box.iban_grouped,
                        reference=grouped(box.reference)),
        })
    deadline = None
    if delivery.template.startswith("profitletter"):
        days = [dc.case.last_day_to_pay for dc in delivery.cases if dc.case.last_day_to_pay]
        deadline = short_day(min(days)) if days else None
    responses = {r.kind: r for r in session.scalars(select(DebtorResponse).where(
        DebtorResponse.delivery_id == delivery.id))}
    public = urlsplit(services().settings.public_url)
    return {
        "t": t, "token": token, "lang": t.lang, "creditor": creditor, "partner": partner,
        "logo": logo_data_uri(settings.logo, settings.logo_mime),
        "contact": [x for x in (sender.get("phone"), sender.get("email")) if x],
        "rows": rows, "total": money(delivery.total) if delivery.total is not None else None,
        "boxes": boxes, "deadline": deadline, "responses": responses,
        "genuine": t("genuine", host=f"{public.scheme}://{public.netloc}"),
        "plan_max": policy.plan_max_terms,
        "plan_last": today + timedelta(days=policy.plan_first_within_days),
        "plan_last_nl": short_day(today + timedelta(days=policy.plan_first_within_days)),
        "today": today, "callback_last": today + timedelta(days=CALLBACK_DAYS_AHEAD),
        "windows": [f"{a}-{b}" for a, b in CALLBACK_WINDOWS],
        "any_open": any(r["open"] for r in rows),
        "short_day": short_day,
    }


def _http_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https")
