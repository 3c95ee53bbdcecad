"""Debtors' answers on the console and the case page: read them, decide on a payment plan.

The answers themselves come in through the debtor's page (:mod:`connector.web.debtor`). Here
the creditor (its own companies) or an operator (every company) accepts or refuses a proposed
plan; everything else an answer needs (hold, ledger note, alert) already happened.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from connector.clock import today_nl
from connector.debtor_page.responses import ResponseRefused, decide_plan
from connector.models import DebtorResponse, DeliveryCase, Hold
from connector.web.access import actor, company_or_404, login_required, operator_id, services

bp = Blueprint("debtor_responses", __name__, url_prefix="/companies/<company_id>/responses")
CONSOLE_LIMIT = 30


@bp.post("/<response_id>/decide")
@login_required
def decide(company_id: str, response_id: str) -> Response:
    decision = request.form.get("decision")
    with services().db.session() as db:
        company_or_404(db, company_id)
        response = db.get(DebtorResponse, response_id)
        if response is None or response.company_id != company_id or response.kind != "plan":
            abort(404)
        back = request.form.get("back") or ""
        target = back if back.startswith("/") and not back.startswith("//") else url_for(
            "companies.show", company_id=company_id)
        if decision not in ("accept", "refuse"):
            flash(_("Kies accepteren of afwijzen."), "error")
            return redirect(target)
        try:
            decide_plan(db, response, decision == "accept", actor(), today_nl())
        except ResponseRefused:
            flash(_("Over dit voorstel is al beslist."), "error")
            return redirect(target)
    flash(_("Betalingsregeling geaccepteerd: de termijnen staan als hold op het dossier.")
          if decision == "accept" else
          _("Betalingsregeling afgewezen: het dossier gaat verder."), "success")
    return redirect(target)


def responses_for_case(case_id: str) -> list[DebtorResponse]:
    """The answers given on the pages of this case's messages, newest first."""
    with services().db.session() as db:
        rows = list(db.scalars(
            select(DebtorResponse).join(DeliveryCase, DeliveryCase.delivery_id
                                        == DebtorResponse.delivery_id)
            .where(DeliveryCase.case_id == case_id)
            .order_by(DebtorResponse.updated_at.desc())
            .options(selectinload(DebtorResponse.debtor))))  # shown after the session closes
        return rows


def console_responses() -> list[dict[str, Any]]:
    """Recent answers for the operator's console, with the case page each belongs to."""
    if not operator_id():
        return []
    with services().db.session() as db:
        rows = []
        for response in db.scalars(select(DebtorResponse).order_by(
                DebtorResponse.updated_at.desc()).limit(CONSOLE_LIMIT)):
            links = response.delivery.cases
            rows.append({"response": response, "debtor": response.debtor.name,
                         "invoice_id": links[0].case.invoice_id if links else None,
                         "numbers": ", ".join(link.case.invoice.number or "" for link in links)})
        return rows


def callback_requests() -> list[dict[str, Any]]:
    """Debtors who asked to be called back and whose call-back hold still runs: for the call
    list, with the number the creditor has for them."""
    if not operator_id():
        return []
    with services().db.session() as db:
        rows = []
        for response in db.scalars(select(DebtorResponse).where(
                DebtorResponse.kind == "callback").order_by(DebtorResponse.updated_at)):
            held = [db.get(Hold, hold_id) for hold_id in response.data.get("holds", [])]
            running = [h for h in held if h is not None and h.ended_at is None]
            if not running:
                continue
            links = response.delivery.cases
            rows.append({"response": response, "debtor": response.debtor.name,
                         "phone": response.debtor.phone or "",
                         "invoice_id": links[0].case.invoice_id if links else None,
                         "numbers": ", ".join(link.case.invoice.number or "" for link in links)})
        return rows


def register_globals(app) -> None:
    app.add_template_global(responses_for_case, "debtor_responses_for")
    app.add_template_global(console_responses, "console_debtor_responses")
    app.add_template_global(callback_requests, "debtor_callback_requests")
