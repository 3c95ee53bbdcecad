"""The operator console: every company at a glance, the call list, the print queue, the
approvals queue, search, and the partner's identity. Operators only; anyone else gets a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from connector.channels.documents import PartnerIdentity
from connector.clock import today_nl
from connector.collection import approval, calls, legal, posting, problems
from connector.collection.engine import approve
from connector.models import (
    Case,
    CaseState,
    Company,
    Debtor,
    Delivery,
    DeliveryState,
    Invoice,
    SyncState,
    utcnow,
)
from connector.partner import current_partner, save_partner, save_partner_logo
from connector.web.access import actor, operator_id, services, signed_in
from connector.web.bulk import reason_text
from connector.web.operator_forms import CallOutcomeForm, PartnerForm, PostedForm, SearchForm
from connector.web.settings_forms import LogoForm

bp = Blueprint("operator", __name__, url_prefix="/operator")
F = TypeVar("F", bound=Callable[..., Any])
SEARCH_LIMIT = 50


def operator_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not operator_id():
            if signed_in():
                abort(404)  # a creditor: the console does not exist for them
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.get("/")
@operator_required
def index() -> str:
    with services().db.session() as db:
        rows = _company_rows(db)
        totals = {
            "calls": len(calls.due_calls(db, today_nl())),
            "letters": len(posting.waiting_letters(services(), db)),
            "approvals": len(_awaiting_approval(db)),
            "problems": len(problems.problem_deliveries(db)),
        }
    return render_template("web/operator/index.html", rows=rows, totals=totals)


def _company_rows(db: Session) -> list[dict[str, Any]]:
    companies = list(db.scalars(select(Company).order_by(Company.name)))
    cases = _count_by(db, Case.company_id, Case.state)
    deliveries = _count_by(db, Delivery.company_id, Delivery.state)
    syncs = {s.company_id: s for s in db.scalars(select(SyncState))}
    rows = []
    for company in companies:
        connection = company.connection
        state = syncs.get(company.id)
        rows.append({
            "company": company,
            "status": connection.status if connection else "none",
            "grant_status": connection.grant.status if connection and connection.grant else None,
            "last_sync": state.last_success_at if state else None,
            "sync_error": state.last_error if state and state.failures else None,
            "open": cases.get((company.id, CaseState.ACTIVE.value), 0)
            + cases.get((company.id, CaseState.ON_HOLD.value), 0),
            "ready": cases.get((company.id, CaseState.READY_FOR_HANDOVER.value), 0),
            "calls": deliveries.get((company.id, DeliveryState.CALLING.value), 0),
            "problems": deliveries.get((company.id, DeliveryState.FAILED.value), 0)
            + deliveries.get((company.id, DeliveryState.AMBIGUOUS.value), 0),
        })
    return rows


def _count_by(db: Session, *columns: Any) -> dict[tuple[str, str], int]:
    return {tuple(row[:-1]): row[-1]
            for row in db.execute(select(*columns, func.count()).group_by(*columns))}


# -- calls ------------------------------------------------------------------------------------


@bp.get("/calls")
@operator_required
def call_list() -> str:
    with services().db.session() as db:
        due = calls.due_calls(db, today_nl())
        items = [_call_item(db, d) for d in due]
    return render_template("web/operator/calls.html", items=items,
                           may_call=legal.may_contact(utcnow()),
                           max_attempts=calls.MAX_ATTEMPTS)


def _call_item(db: Session, delivery: Delivery) -> dict[str, Any]:
    return {
        "delivery": delivery,
        "company": db.get(Company, delivery.company_id),
        "debtor": delivery.debtor,
        "invoices": [(link.case.invoice, link.case.principal) for link in delivery.cases],
        "total": sum(link.case.principal for link in delivery.cases),
        "attempts": calls.attempts(db, delivery.id),
        "form": CallOutcomeForm(prefix=delivery.id[:8]),
    }


@bp.post("/calls/<delivery_id>")
@operator_required
def call_outcome(delivery_id: str) -> ResponseReturnValue:
    form = CallOutcomeForm(prefix=delivery_id[:8])
    if form.validate_on_submit():
        try:
            result = calls.record_outcome(services(), delivery_id, form.outcome.data, actor(),
                                          promised_on=form.promised_on.data,
                                          note=form.note.data)
        except calls.CallError as exc:
            flash(_("Niet vastgelegd: %(error)s.", error=exc), "error")
        else:
            flash(result.message, "success")
            return redirect(url_for("operator.call_list"))
    else:
        problems = [str(e) for errors in form.errors.values() for e in errors]
        flash(_("Niet vastgelegd: %(error)s", error=" ".join(problems)), "error")
    with services().db.session() as db:
        items = []
        for delivery in calls.due_calls(db, today_nl()):
            item = _call_item(db, delivery)
            if delivery.id == delivery_id:
                item["form"] = form  # keep what the operator typed, with the messages
            items.append(item)
    return render_template("web/operator/calls.html", items=items,
                           may_call=legal.may_contact(utcnow()),
                           max_attempts=calls.MAX_ATTEMPTS), 422


# -- print queue ------------------------------------------------------------------------------


@bp.get("/print")
@operator_required
def print_queue() -> str:
    with services().db.session() as db:
        letters = posting.waiting_letters(services(), db)
    return render_template("web/operator/print.html", letters=letters, today=today_nl(),
                           form=PostedForm(posted_on=today_nl()))


@bp.get("/print/letters.pdf")
@operator_required
def print_file() -> Response:
    ids = request.args.getlist("letter")
    try:
        pdf = posting.print_file(services(), ids)
    except posting.PrintQueueError as exc:
        flash(_("Geen printbestand: %(error)s.", error=exc), "error")
        return redirect(url_for("operator.print_queue"))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="brieven-{today_nl().isoformat()}.pdf"'})


@bp.post("/print/posted")
@operator_required
def mark_posted() -> Response:
    form = PostedForm()
    ids = request.form.getlist("letter")
    if not form.validate_on_submit():
        problems = [str(e) for e in form.posted_on.errors] or [_("ongeldige invoer")]
        flash(_("Niet vastgelegd: %(error)s", error=" ".join(problems)), "error")
        return redirect(url_for("operator.print_queue"))
    try:
        count = posting.mark_batch_posted(services(), ids, form.posted_on.data, actor())
    except posting.PrintQueueError as exc:
        flash(_("Niet vastgelegd: %(error)s.", error=exc), "error")
    else:
        flash(ngettext("%(num)d brief als gepost vastgelegd; "
                       "de betaaltermijn loopt vanaf de postdatum.",
                       "%(num)d brieven als gepost vastgelegd; "
                       "de betaaltermijn loopt vanaf de postdatum.", count), "success")
    return redirect(url_for("operator.print_queue"))


@bp.post("/print/<delivery_id>/remake")
@operator_required
def remake(delivery_id: str) -> Response:
    try:
        posting.remake_letter(services(), delivery_id, actor())
    except posting.PrintQueueError as exc:
        flash(_("Niet gedaan: %(error)s.", error=exc), "error")
    else:
        flash(_("De brief is uit de wachtrij gehaald; een nieuwe brief met een nieuwe termijn "
                "komt bij de volgende ronde in de wachtrij."), "success")
    return redirect(url_for("operator.print_queue"))


# -- approvals --------------------------------------------------------------------------------


def _awaiting_approval(db: Session) -> list[Delivery]:
    return list(db.scalars(select(Delivery).where(
        Delivery.state == DeliveryState.PLANNED.value, Delivery.needs_approval.is_(True),
        Delivery.approved_by.is_(None)).order_by(Delivery.due_on)))


@bp.get("/approvals")
@operator_required
def approvals() -> str:
    with services().db.session() as db:
        waiting = _awaiting_approval(db)
        items = [{"delivery": d, "company": db.get(Company, d.company_id), "debtor": d.debtor,
                  "invoices": [link.case.invoice for link in d.cases]} for d in waiting]
    return render_template("web/operator/approvals.html", items=items)


@bp.post("/approvals/<delivery_id>")
@operator_required
def approve_step(delivery_id: str) -> Response:
    # CSRF is checked for every POST by the app (CSRFProtect); there is nothing else to read.
    with services().db.session() as db:
        delivery = db.get(Delivery, delivery_id)
        if delivery is None or delivery.state != DeliveryState.PLANNED.value:
            abort(404)
        reason = approval.why_not(db, delivery)
        if reason is not None:
            flash(reason_text(reason), "error")
            return redirect(url_for("operator.approvals"))
        approve(db, delivery, actor())
        flash(_("Stap '%(step)s' goedgekeurd; hij gaat bij de volgende ronde mee.",
                step=delivery.step_name), "success")
    return redirect(url_for("operator.approvals"))


# -- problems: failed and ambiguous steps ----------------------------------------------------


@bp.get("/problems")
@operator_required
def problem_list() -> str:
    with services().db.session() as db:
        items = [{"delivery": d, "company": db.get(Company, d.company_id), "debtor": d.debtor,
                  "invoices": [link.case.invoice for link in d.cases]}
                 for d in problems.problem_deliveries(db)]
    return render_template("web/operator/problems.html", items=items)


@bp.post("/problems/<delivery_id>/<decision>")
@operator_required
def decide(delivery_id: str, decision: str) -> Response:
    actions = {"confirm": (problems.confirm_sent, _("Stap bevestigd als verstuurd.")),
               "again": (problems.send_again,
                         _("Stap gaat bij de volgende ronde opnieuw mee.")),
               "skip": (problems.skip, _("Stap overgeslagen; het dossier gaat verder."))}
    if decision not in actions:
        abort(404)
    action, done = actions[decision]
    try:
        action(services(), delivery_id, actor())
    except problems.ProblemError as exc:
        flash(_("Niets gedaan: %(error)s.", error=exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("operator.problem_list"))


# -- search -----------------------------------------------------------------------------------


@bp.get("/search")
@operator_required
def search() -> str:
    form = SearchForm(request.args)
    results: list[tuple[Invoice, Company, Debtor | None]] = []
    if "q" in request.args and form.validate():
        needle = f"%{form.q.data.strip().lower()}%"
        with services().db.session() as db:
            results = list(db.execute(
                select(Invoice, Company, Debtor)
                .join(Company, Company.id == Invoice.company_id)
                .outerjoin(Debtor, Debtor.id == Invoice.debtor_id)
                .where(or_(func.lower(Invoice.number).like(needle),
                           func.lower(Debtor.name).like(needle)))
                .order_by(Invoice.due_date.desc())
                .limit(SEARCH_LIMIT)))
    return render_template("web/operator/search.html", form=form, results=results,
                           searched="q" in request.args, limit=SEARCH_LIMIT)


# -- partner identity -------------------------------------------------------------------------


@bp.route("/partner", methods=["GET", "POST"])
@operator_required
def partner() -> ResponseReturnValue:
    with services().db.session() as db:
        current = current_partner(db, services().settings)
    form = PartnerForm(data={**current.__dict__, "address": "\n".join(current.address_lines)})
    if request.method == "POST":
        form = PartnerForm()
        if form.validate_on_submit():
            lines = tuple(x.strip() for x in form.address.data.splitlines() if x.strip())
            identity = PartnerIdentity(
                name=form.name.data.strip(), address_lines=lines,
                wki_number=form.wki_number.data.strip(), kvk=form.kvk.data.strip(),
                phone=form.phone.data.strip(), email=form.email.data.strip(),
                website=(form.website.data or "").strip(),
                complaints=form.complaints.data.strip(),
                complaints_en=form.complaints_en.data.strip())
            with services().db.session() as db:
                save_partner(db, identity, actor())
            flash(_("Gegevens van de incassopartner opgeslagen; de volgende brief gebruikt ze."),
                  "success")
            return redirect(url_for("operator.partner"))
        flash(_("Niet opgeslagen: controleer de gemarkeerde velden."), "error")
    return render_template("web/operator/partner.html", form=form, logo_form=LogoForm(),
                           logo=current.logo_uri), (422 if request.method == "POST" else 200)


@bp.post("/partner/logo")
@operator_required
def partner_logo() -> Response:
    form = LogoForm()
    if form.validate_on_submit():
        with services().db.session() as db:
            save_partner_logo(db, form.content, form.mime, actor())
        flash(_("Logo opgeslagen; het staat voortaan op het briefpapier."), "success")
    else:
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        flash(_("Logo niet opgeslagen: %(problems)s", problems=problems), "error")
    return redirect(url_for("operator.partner"))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Response:
    """A file far above the request limit never reaches the form: say so, as the form would."""
    flash(_("Logo niet opgeslagen: %(problems)s",
            problems=_("Het bestand is groter dan 500 kB; verklein het logo.")), "error")
    return redirect(url_for("operator.partner"))


@bp.post("/partner/logo/delete")
@operator_required
def delete_partner_logo() -> Response:
    with services().db.session() as db:
        save_partner_logo(db, None, None, actor())
    flash(_("Logo verwijderd."), "success")
    return redirect(url_for("operator.partner"))
