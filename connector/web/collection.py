"""Pre-incasso on the company page: preview or live, approvals, sender, holds, the statement."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from connector import events
from connector.clock import today_nl
from connector.collection import approval
from connector.collection.cases import end_hold, place_hold, settings_for
from connector.collection.engine import approve
from connector.collection.fees import statement
from connector.csv_export import statement_csv
from connector.models import Case, Delivery, DeliveryCase, DeliveryState, Hold, HoldKind
from connector.reports.loading import month_costs
from connector.web.access import actor, case_or_404, company_or_404, login_required, services
from connector.web.bulk import reason_text
from connector.web.filters import hold_label, sends_own_reminder
from connector.web.forms import HoldForm, SenderForm, StampViaLedgerForm
from connector.web.ledgers import plugin_for_key

bp = Blueprint("collection", __name__, url_prefix="/companies/<company_id>")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _back(company_id: str, anchor: str = "preincasso") -> Response:
    return redirect(url_for("companies.show", company_id=company_id, _anchor=anchor))


@bp.post("/collection/mode")
@login_required
def mode(company_id: str) -> Response:
    live = request.form.get("live") == "1"
    with services().db.session() as db:
        company_or_404(db, company_id)
        if live:  # going live is a confirmation step with a summary (connector.web.dashboard)
            return redirect(url_for("dashboard.confirm_live", company_id=company_id,
                                    terug="instellingen"), code=303)
        settings = settings_for(db, company_id)
        if live and not (settings.sender or {}).get("iban"):
            flash(_("Vul eerst het IBAN van de schuldeiser in: zonder rekeningnummer gaat er "
                    "geen herinnering uit."), "error")
            return _back(company_id)
        settings.live, settings.updated_by = live, actor()
        events.record(db, "collection.mode", "Pre-incasso staat live: geplande stappen gaan uit"
                      if live else "Pre-incasso staat op voorbeeld: er gaat niets uit",
                      company_id=company_id, actor=actor())
    flash(_("Pre-incasso staat live.") if live else _("Pre-incasso staat op voorbeeld."), "success")
    return _back(company_id)


@bp.post("/deliveries/<delivery_id>/approve")
@login_required
def approve_delivery(company_id: str, delivery_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        delivery = db.get(Delivery, delivery_id)
        if delivery is None or delivery.company_id != company_id:
            abort(404)
        reason = approval.why_not(db, delivery)
        if reason is not None:
            flash(reason_text(reason), "error")
        else:
            approve(db, delivery, actor())
            flash(_("Goedgekeurd; de stap gaat uit op de geplande dag, binnen de belvensters."),
                  "success")
    return _back(company_id)


@bp.post("/collection/stamp-via-ledger")
@login_required
def stamp_via_ledger(company_id: str) -> Response:
    form = StampViaLedgerForm()
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        plugin = plugin_for_key(company.provider)
        if not sends_own_reminder(company.provider) or plugin is None or \
                not form.validate_on_submit():
            flash(_("Deze instelling kon niet worden opgeslagen."), "error")
            return _back(company_id)
        on = bool(form.stamp_via_ledger.data)
        settings = settings_for(db, company_id)
        settings.stamp_via_ledger, settings.updated_by = on, actor()
        events.record(db, "collection.stamp_via_ledger",
                      f"Stempelherinnering gaat via {plugin.display_name}" if on
                      else "Stempelherinnering gaat per e-mail van de incassopartner",
                      company_id=company_id, actor=actor())
    flash(_("Opgeslagen."), "success")
    return _back(company_id)


@bp.post("/cases/<case_id>/holds")
@login_required
def add_hold(company_id: str, case_id: str) -> Response:
    form = HoldForm()
    with services().db.session() as db:
        company_or_404(db, company_id)
        case = case_or_404(db, company_id, case_id)
        target = url_for("companies.invoice", company_id=company_id, invoice_id=case.invoice_id)
        if case.state in ("closed", "handed_over"):
            flash(_("Dit dossier loopt niet meer."), "error")
            return redirect(target)
        if not form.validate_on_submit():
            for field, errors in form.errors.items():
                flash(f"{getattr(form, field).label.text}: {' '.join(map(str, errors))}", "error")
            return redirect(target)
        kind = HoldKind(form.kind.data)
        try:
            place_hold(db, kind, form.reason.data, actor(), case=case, until=form.until.data)
        except ValueError as exc:
            flash(str(exc), "error")
            return redirect(target)
    flash(_("%(hold)s vastgelegd.", hold=hold_label(kind).capitalize()), "success")
    return redirect(target)


@bp.post("/holds/<hold_id>/end")
@login_required
def stop_hold(company_id: str, hold_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        hold = db.get(Hold, hold_id)
        if hold is None or hold.company_id != company_id:
            abort(404)
        case = db.get(Case, hold.case_id) if hold.case_id else None
        if hold.ended_at is None:
            end_hold(db, hold, actor(), "handmatig beëindigd")
        target = (url_for("companies.invoice", company_id=company_id, invoice_id=case.invoice_id)
                  if case else url_for("companies.show", company_id=company_id))
    flash(_("Beëindigd; het dossier loopt weer."), "success")
    return redirect(target)


@bp.get("/statement/<month>")
@login_required
def monthly_statement(company_id: str, month: str) -> str | Response:
    if not MONTH.match(month):
        abort(404)
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        result = statement(db, company_id, month)
        running = month_costs(db, [company_id], today_nl().strftime("%Y-%m"))
    if request.args.get("format") == "csv":
        return Response(statement_csv(result), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="overzicht-{month}.csv"'})
    return render_template("web/statement.html", company=company, month=month, result=result,
                           running=running)


def overview(db: Session, company_id: str) -> dict:
    """What the company page shows about pre-incasso."""
    settings = settings_for(db, company_id)
    counts = dict(db.execute(select(Case.state, func.count()).where(
        Case.company_id == company_id).group_by(Case.state)).all())
    # The page is rendered after the session closes: each step's debtor and invoices come along.
    shown = (selectinload(Delivery.debtor),
             selectinload(Delivery.cases).selectinload(DeliveryCase.case)
             .selectinload(Case.invoice))
    planned = list(db.scalars(select(Delivery).where(
        Delivery.company_id == company_id,
        Delivery.state.in_([DeliveryState.PLANNED.value, DeliveryState.AMBIGUOUS.value,
                            DeliveryState.FAILED.value]))
        .order_by(Delivery.due_on).limit(25).options(*shown)))
    sent = list(db.scalars(select(Delivery).where(
        Delivery.company_id == company_id, Delivery.state == DeliveryState.SENT.value)
        .order_by(Delivery.sent_at.desc()).limit(10).options(*shown)))
    waiting = approval.awaiting(db, company_id)
    return {"settings": settings, "counts": counts, "planned": planned, "sent": sent,
            "awaiting": len(waiting), "awaiting_cost": approval.cost_of(db, company_id, waiting),
            "month": today_nl().strftime("%Y-%m"), "sender_form": SenderForm(
                data=settings.sender or {}),
            "stamp_form": StampViaLedgerForm(data={"stamp_via_ledger": settings.stamp_via_ledger})}
