"""Bulk approval of planned steps: select several (or all), see the count and the cost, confirm.

Nothing is approved on the first post: the creditor first sees how many steps and what they
cost (the partner's fees, excl. VAT), then confirms. Steps that cannot go out are refused with
the reason (see ``connector.collection.approval``).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from connector.clock import today_nl
from connector.collection import approval, problems
from connector.collection.actions import ActionRefused, exclude_debtor
from connector.collection.cases import place_hold
from connector.models import Debtor, Delivery, DeliveryState, HoldKind
from connector.web.access import (
    actor,
    company_or_404,
    login_required,
    operator_id,
    services,
)
from connector.web.filters import money

bp = Blueprint("bulk", __name__, url_prefix="/companies/<company_id>")
# The refusals of connector.collection.approval in the UI's language.
REASONS = {
    approval.NOT_PLANNED: _l("Deze stap is niet meer gepland."),
    approval.DISCONNECTED: _l("De koppeling met het boekhoudpakket is verbroken: er kan niets "
                              "uitgaan tot u opnieuw koppelt."),
    approval.NO_IBAN: _l("Het IBAN van de schuldeiser ontbreekt: vul het in bij Afzender, "
                         "anders weet de debiteur niet waar hij kan betalen."),
}
MAX_IDS = 1000  # a form never carries more; more is refused, not truncated silently


def reason_text(reason: str) -> str:
    text = REASONS.get(reason)
    return str(text) if text is not None else reason


@bp.post("/deliveries/approve")
@login_required
def approve(company_id: str) -> str | Response:
    everything = request.form.get("scope") == "all" and request.form.get("confirm") != "1"
    ids = request.form.getlist("delivery")
    back = redirect(url_for("companies.show", company_id=company_id, _anchor="preincasso"))
    if len(ids) > MAX_IDS:
        flash(_("Te veel stappen tegelijk; kies er hoogstens %(num)d.", num=MAX_IDS), "error")
        return back
    if not everything and not ids:
        flash(_("Kies eerst de stappen die u wilt goedkeuren."), "error")
        return back
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        if request.form.get("confirm") != "1":
            waiting = {d.id: d for d in approval.awaiting(db, company_id, with_debtors=True)}
            chosen = list(waiting.values()) if everything else [
                waiting[i] for i in dict.fromkeys(ids) if i in waiting]
            if not chosen:
                flash(_("Deze stappen wachten niet meer op goedkeuring."), "error")
                return back
            blocked = {}
            for delivery in chosen:
                reason = approval.why_not(db, delivery)
                if reason is not None:
                    blocked[reason] = blocked.get(reason, 0) + 1
            return render_template(
                "web/bulk_approve.html", company=company, chosen=chosen,
                cost=approval.cost_of(db, company_id, chosen), everything=everything,
                blocked={reason_text(reason): count for reason, count in blocked.items()})
        result = approval.approve_many(db, company_id, None if everything else ids, actor())
    if result.approved:
        flash(ngettext("%(num)d stap goedgekeurd (kosten %(cost)s excl. btw); hij gaat uit op de "
                       "geplande dag.",
                       "%(num)d stappen goedgekeurd (kosten %(cost)s excl. btw); ze gaan uit op "
                       "de geplande dag.", result.approved, cost=money(result.fees)), "success")
    for reason, count in result.refused.items():
        flash(ngettext("%(num)d stap niet goedgekeurd: %(reason)s",
                       "%(num)d stappen niet goedgekeurd: %(reason)s", count,
                       reason=reason_text(reason)), "error")
    return back


# -- several debtors at once: exclude or pause ---------------------------------------------

DEBTOR_ACTIONS = ("exclude", "pause")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@bp.post("/debtors/bulk")
@login_required
def debtors(company_id: str) -> Response:
    """Exclude or pause the ticked debtors of this company, with one reason for all."""
    back = redirect(url_for("cases.debtors", company_id=company_id))
    ids = list(dict.fromkeys(request.form.getlist("debtor")))[:MAX_IDS]
    action = request.form.get("bulk_action", "")
    reason = (request.form.get("reason") or "").strip()[:200]
    if action not in DEBTOR_ACTIONS:
        flash(_("Kies wat er met de debiteuren moet gebeuren."), "error")
        return back
    if not ids:
        flash(_("Kies eerst de debiteuren."), "error")
        return back
    if not reason:
        flash(_("Geef een reden; die komt bij elke debiteur in het logboek."), "error")
        return back
    until = None
    if action == "pause":
        until = _day(request.form.get("until", ""))
        if until is None or until < today_nl():
            flash(_("Vul een geldige einddatum van de pauze in."), "error")
            return back
    done = skipped = 0
    with services().db.session() as db:
        company_or_404(db, company_id)
        for debtor in db.scalars(select(Debtor).where(Debtor.company_id == company_id,
                                                      Debtor.id.in_(ids))):
            try:
                if action == "exclude":
                    exclude_debtor(db, debtor, reason, actor())
                else:
                    place_hold(db, HoldKind.PAUSE, reason, actor(), debtor=debtor, until=until)
                done += 1
            except (ActionRefused, ValueError):
                skipped += 1
    if action == "exclude":
        flash(ngettext("%(num)d debiteur uitgesloten.", "%(num)d debiteuren uitgesloten.", done),
              "success")
    else:
        flash(ngettext("%(num)d debiteur gepauzeerd.", "%(num)d debiteuren gepauzeerd.", done),
              "success")
    if skipped:
        flash(ngettext("%(num)d debiteur overgeslagen (al uitgesloten).",
                       "%(num)d debiteuren overgeslagen (al uitgesloten).", skipped), "info")
    return back


# -- the console: send every failed step again -------------------------------------------

console_bp = Blueprint("bulk_console", __name__, url_prefix="/operator")


@console_bp.post("/problems/again-failed")
@login_required
def again_failed() -> Response:
    """Plan every failed step again (nothing of them went out, so none is sent twice); steps
    whose cause is still there (no IBAN, disconnected) stay on the list with the reason.
    Possibly-sent steps are never included: those need a person to check each one."""
    if not operator_id():
        abort(404)  # the console does not exist for a creditor
    ids = set(request.form.getlist("delivery"))
    with services().db.session() as db:
        failed = [d for d in db.scalars(select(Delivery).where(
            Delivery.state == DeliveryState.FAILED.value, Delivery.id.in_(ids)))]
        blocked = {d.id: approval.blocker(db, d) for d in failed}
    again = kept = 0
    for delivery_id, reason in blocked.items():
        if reason is not None:
            kept += 1
            continue
        try:
            problems.send_again(services(), delivery_id, actor())
            again += 1
        except problems.ProblemError:
            continue
    flash(ngettext("%(num)d mislukte stap gaat bij de volgende ronde opnieuw mee.",
                   "%(num)d mislukte stappen gaan bij de volgende ronde opnieuw mee.", again),
          "success")
    if kept:
        flash(ngettext("%(num)d stap blijft staan: de oorzaak (geen IBAN of geen koppeling) is "
                       "er nog.", "%(num)d stappen blijven staan: de oorzaak (geen IBAN of geen "
                       "koppeling) is er nog.", kept), "error")
    return redirect(url_for("operator.problem_list"))
