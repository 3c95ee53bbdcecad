"""The cases console of one company: the list of cases, skipping a step, handing over, and
excluding debtors from pre-incasso.

Every id in a URL is checked against the company in the URL (and the company against who is
signed in): another tenant's ids give a 404 and change nothing.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from werkzeug.wrappers import Response

from connector.channels import sent_pdfs
from connector.channels.documents import render_letter_pdf, render_stamp_pdf
from connector.clock import today_nl
from connector.collection.actions import (
    HANDOVER_FROM,
    ActionRefused,
    exclude_debtor,
    hand_over,
    include_debtor,
    planned_delivery,
    skip_step,
)
from connector.collection.cases import policy_for, settings_for
from connector.collection.company_templates import override_for
from connector.collection.engine import step_fee
from connector.collection.messages import default_source, message_language
from connector.collection.posting import PrintQueueError, letter_store
from connector.collection.report import next_step
from connector.collection.template_preview import PDF_TEMPLATES, build_preview
from connector.filestore import FileStoreError
from connector.formatting import short_day
from connector.models import (
    Case,
    Debtor,
    Delivery,
    DeliveryCase,
    Hold,
    HoldKind,
    Invoice,
    UsageLine,
)
from connector.partner import current_partner
from connector.web.access import (
    actor,
    case_or_404,
    company_or_404,
    login_required,
    page_arg,
    services,
)
from connector.web.filters import pauses_own_reminders
from connector.web.settings_forms import ReasonForm

bp = Blueprint("cases", __name__, url_prefix="/companies/<company_id>")
PAGE_SIZE = 50
SHOWN_STATES = ("sent", "ambiguous")  # steps whose message may have reached the debtor
FILTERS = {
    "": _l("alle dossiers"),
    "active": _l("lopend"),
    "on_hold": _l("on hold"),
    "ready_for_handover": _l("klaar voor overdracht"),
    "handed_over": _l("overgedragen"),
    "closed": _l("gesloten"),
    "paid": _l("gesloten: betaald"),
}
# What the engine refuses (``ActionRefused``, Dutch) in the UI's language; a message not listed
# here is shown as the engine wrote it.
REFUSALS = {
    "Geef een reden om de stap over te slaan.": _l("Geef een reden om de stap over te slaan."),
    "Deze stap is niet meer gepland.": _l("Deze stap is niet meer gepland."),
    "Deze stap hoort niet (meer) bij dit dossier.":
        _l("Deze stap hoort niet (meer) bij dit dossier."),
    "Geef een reden of kenmerk voor de overdracht.":
        _l("Geef een reden of kenmerk voor de overdracht."),
    "Dit dossier loopt niet meer en kan niet worden overgedragen.":
        _l("Dit dossier loopt niet meer en kan niet worden overgedragen."),
    "Deze debiteur is al uitgesloten.": _l("Deze debiteur is al uitgesloten."),
    "Geef een reden om de debiteur uit te sluiten.":
        _l("Geef een reden om de debiteur uit te sluiten."),
    "Deze debiteur is niet uitgesloten.": _l("Deze debiteur is niet uitgesloten."),
    "Geef een reden om de debiteur weer mee te nemen.":
        _l("Geef een reden om de debiteur weer mee te nemen."),
}


def refusal(exc: ActionRefused) -> str:
    """The engine's refusal in the UI's language."""
    text = REFUSALS.get(str(exc))
    return str(text) if text is not None else str(exc)


def next_step_label(db: Session, case: Case) -> str:
    """The next step of a case for the pages: its name (data, as stored) and planned day."""
    step = next_step(db, case)
    if step is None:
        return "–"
    name, day = step
    return _("%(step)s op %(day)s", step=name, day=short_day(day)) if day else name


def _pages(total: int) -> int:
    return max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def _search(text: str) -> str:
    return text.strip().lower()[:100]


@bp.get("/cases")
@login_required
def index(company_id: str) -> str:
    state = request.args.get("state", "")
    state = state if state in FILTERS else ""
    q = _search(request.args.get("q", ""))
    page = page_arg()
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        where = [Case.company_id == company_id]
        if state == "paid":
            where += [Case.state == "closed", Case.closed_reason == "paid"]
        elif state:
            where.append(Case.state == state)
        if q:
            where.append(or_(func.lower(Debtor.name).contains(q, autoescape=True),
                             func.lower(Invoice.number).contains(q, autoescape=True)))
        base = (select(Case).join(Invoice, Invoice.id == Case.invoice_id)
                .join(Debtor, Debtor.id == Case.debtor_id).where(*where))
        total = db.scalar(select(func.count()).select_from(base.subquery())) or 0
        cases = list(db.scalars(
            base.options(joinedload(Case.invoice), joinedload(Case.debtor))
            .order_by(Case.opened_on.desc(), Invoice.number)
            .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        rows = [(case, next_step_label(db, case)) for case in cases]
        any_cases = bool(total) or bool(db.scalar(
            select(func.count()).select_from(Case).where(Case.company_id == company_id)))
        return render_template(
            "web/cases.html", company=company, rows=rows, total=total, page=page,
            pages=_pages(total), state=state, q=request.args.get("q", "").strip()[:100],
            filters=FILTERS, any_cases=any_cases)


def _case_page(case: Case) -> Response:
    return redirect(url_for("companies.invoice", company_id=case.company_id,
                            invoice_id=case.invoice_id, _anchor="dossier"))


def _flash_errors(form: ReasonForm) -> None:
    for name, errors in form.errors.items():
        label = getattr(form, name).label.text if hasattr(form, name) else name
        flash(f"{label}: {' '.join(map(str, errors))}", "error")


@bp.post("/cases/<case_id>/skip")
@login_required
def skip(company_id: str, case_id: str) -> Response:
    form = ReasonForm()
    with services().db.session() as db:
        company_or_404(db, company_id)
        case = case_or_404(db, company_id, case_id)
        delivery = planned_delivery(db, case)
        wanted = form.delivery_id.data
        if wanted:
            shown = db.get(Delivery, wanted)
            if shown is None or shown.company_id != company_id:
                abort(404)
        if not form.validate_on_submit():
            _flash_errors(form)
            return _case_page(case)
        if delivery is None or (wanted and delivery.id != wanted):
            flash(_("Deze stap is niet meer gepland; bekijk de stand van het dossier."), "error")
            return _case_page(case)
        name = delivery.step_name
        try:
            skip_step(db, case, delivery, form.reason.data, actor(), today_nl())
        except ActionRefused as exc:
            flash(refusal(exc), "error")
            return _case_page(case)
        response = _case_page(case)
    flash(_("Stap '%(name)s' overgeslagen; het dossier gaat door met de volgende stap.",
            name=name), "success")
    return response


@bp.post("/cases/<case_id>/handover")
@login_required
def handover(company_id: str, case_id: str) -> Response:
    form = ReasonForm()
    with services().db.session() as db:
        company_provider = company_or_404(db, company_id).provider
        case = case_or_404(db, company_id, case_id)
        response = _case_page(case)
        if not form.validate_on_submit():
            _flash_errors(form)
            return response
        try:
            hand_over(db, case, form.reason.data, actor())
        except ActionRefused as exc:
            flash(refusal(exc), "error")
            return response
    if pauses_own_reminders(company_provider):
        flash(_("Dossier overgedragen aan incasso. De herinneringen van het pakket blijven uit."),
              "success")
    else:
        flash(_("Dossier overgedragen aan incasso. Zet de eigen herinneringen van het pakket "
                "voor deze debiteur zelf uit."), "success")
    return response


@bp.get("/debtors")
@login_required
def debtors(company_id: str) -> str:
    q = _search(request.args.get("q", ""))
    only_excluded = request.args.get("excluded") == "1"
    page = page_arg()
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        exclusions = select(Hold.debtor_id).where(
            Hold.company_id == company_id, Hold.kind == HoldKind.EXCLUDED.value,
            Hold.case_id.is_(None), Hold.ended_at.is_(None))
        where = [Debtor.company_id == company_id]
        if q:
            where.append(or_(func.lower(Debtor.name).contains(q, autoescape=True),
                             func.lower(Debtor.customer_number).contains(q, autoescape=True)))
        if only_excluded:
            where.append(Debtor.id.in_(exclusions))
        total = db.scalar(select(func.count()).select_from(Debtor).where(*where)) or 0
        rows = list(db.scalars(select(Debtor).where(*where).order_by(Debtor.name, Debtor.id)
                               .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        ids = [d.id for d in rows]
        excluded = {h.debtor_id: h for h in db.scalars(select(Hold).where(
            Hold.debtor_id.in_(ids), Hold.kind == HoldKind.EXCLUDED.value,
            Hold.case_id.is_(None), Hold.ended_at.is_(None)))} if ids else {}
        open_cases = dict(db.execute(select(Case.debtor_id, func.count()).where(
            Case.debtor_id.in_(ids), Case.state.in_(["active", "on_hold", "ready_for_handover"]))
            .group_by(Case.debtor_id)).all()) if ids else {}
        return render_template(
            "web/debtors.html", company=company, rows=rows, excluded=excluded,
            open_cases=open_cases, total=total, page=page, pages=_pages(total),
            q=request.args.get("q", "").strip()[:100], only_excluded=only_excluded,
            form=ReasonForm())


def _debtor_or_404(db: Session, company_id: str, debtor_id: str) -> Debtor:
    debtor = db.get(Debtor, debtor_id)
    if debtor is None or debtor.company_id != company_id:
        abort(404)
    return debtor


def _exclusion(company_id: str, debtor_id: str, exclude: bool) -> Response:
    form = ReasonForm()
    target = request.form.get("back")
    back = redirect(target if _local(target, company_id)
                    else url_for("cases.debtors", company_id=company_id))
    with services().db.session() as db:
        company_or_404(db, company_id)
        debtor = _debtor_or_404(db, company_id, debtor_id)
        if not form.validate_on_submit():
            _flash_errors(form)
            return back
        try:
            if exclude:
                exclude_debtor(db, debtor, form.reason.data, actor())
                done = _("Debiteur uitgesloten: lopende dossiers zijn gesloten en er opent geen "
                         "nieuw dossier.")
            else:
                reopened = include_debtor(db, debtor, form.reason.data, actor())
                done = ngettext(
                    "Debiteur doet weer mee: achterstallige facturen krijgen een dossier; "
                    "%(num)d gesloten dossier heropend.",
                    "Debiteur doet weer mee: achterstallige facturen krijgen een dossier; "
                    "%(num)d gesloten dossiers heropend.", reopened) if reopened else _(
                    "Debiteur doet weer mee: achterstallige facturen krijgen een dossier.")
        except ActionRefused as exc:
            flash(refusal(exc), "error")
            return back
    flash(done, "success")
    return back


def _local(target: str | None, company_id: str) -> bool:
    """Only a page of this company on this site (the list with its filters) may be returned to."""
    return bool(target) and target.startswith(f"/companies/{company_id}/") and \
        "//" not in target and "\\" not in target


@bp.post("/debtors/<debtor_id>/exclude")
@login_required
def exclude(company_id: str, debtor_id: str) -> Response:
    return _exclusion(company_id, debtor_id, exclude=True)


@bp.post("/debtors/<debtor_id>/include")
@login_required
def include(company_id: str, debtor_id: str) -> Response:
    return _exclusion(company_id, debtor_id, exclude=False)


def case_console(db: Session, case: Case, steps: list[Delivery], holds: list[Hold]) -> dict:
    """What the case page adds for the console: the planned step, the steps still to come,
    which actions are possible, and every subject whose events belong in the case's log."""
    planned = planned_delivery(db, case)
    policy_steps = policy_for(db, case.company_id).steps(case.variant)
    start = case.next_step + (1 if planned is not None else 0)
    upcoming = ([] if case.state in ("closed", "handed_over")
                else list(enumerate(policy_steps[start:], start=start + 1)))
    _load_invoices(db, steps)
    return {
        "planned": planned,
        "fees": _step_fees(db, case, steps),
        "pdfs": sent_pdfs.listed(db, [d.id for d in steps if d.state in SHOWN_STATES]),
        "upcoming": upcoming,
        "can_skip": planned is not None and case.state in ("active", "on_hold"),
        "can_handover": case.state in [s.value for s in HANDOVER_FROM],
        "subjects": [case.id, case.debtor_id, *(d.id for d in steps), *(h.id for h in holds)],
    }


def _load_invoices(db: Session, steps: list[Delivery]) -> None:
    """Load each step's cases and invoices into the session now (one query per level): the
    page that lists them is rendered after the session closes."""
    if steps:
        db.scalars(select(Delivery).where(Delivery.id.in_([d.id for d in steps])).options(
            selectinload(Delivery.cases).selectinload(DeliveryCase.case)
            .selectinload(Case.invoice))).all()


def _step_fees(db: Session, case: Case, steps: list[Delivery]) -> dict[str, Decimal]:
    """The partner's fee per step of the timeline: what was charged for a step that went out
    (the statement's line), what a planned step will cost under the policy."""
    charged = dict(db.execute(select(UsageLine.delivery_id, UsageLine.amount).where(
        UsageLine.delivery_id.in_([d.id for d in steps]))).all()) if steps else {}
    policy = policy_for(db, case.company_id)
    fees = {}
    for delivery in steps:
        if delivery.id in charged:
            fees[delivery.id] = charged[delivery.id]
        elif delivery.state == "planned":
            fee = step_fee(policy, delivery)
            if fee:
                fees[delivery.id] = fee
    return fees


@bp.get("/deliveries/<delivery_id>/message")
@login_required
def sent_message(company_id: str, delivery_id: str) -> str | Response:
    """A message as it went out, opened from the case: the letter's PDF from the letter store,
    or the text as sent (e-mail, SMS, WhatsApp) as the delivery recorded it. Only the
    company's own deliveries (another company's is a 404, like an unknown one)."""
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        delivery = db.get(Delivery, delivery_id)
        if delivery is None or delivery.company_id != company.id or \
                delivery.state not in SHOWN_STATES:
            abort(404)
        if delivery.channel == "letter":
            try:
                pdf = letter_store(services()).pdf(delivery.id)
            except (OSError, PrintQueueError):
                pdf = None
            if pdf is not None:
                return Response(pdf, mimetype="application/pdf", headers={
                    "Content-Disposition": f'inline; filename="brief-{delivery.id}.pdf"'})
        content = delivery.content or {}
        if not content.get("body"):
            abort(404)
        invoices = [link.case.invoice.number or link.case.invoice.external_id
                    for link in delivery.cases]
        pdfs = sent_pdfs.listed(db, [delivery.id]).get(delivery.id, [])
        return render_template("web/sent_message.html", company=company, delivery=delivery,
                               subject=content.get("subject") or "", body=content["body"],
                               invoices=invoices, pdfs=pdfs)


@bp.get("/deliveries/<delivery_id>/pdf/<int:number>")
@login_required
def sent_pdf(company_id: str, delivery_id: str, number: int) -> Response:
    """A PDF an e-mail step carried (the stamped invoice, our stamped reminder page), as it
    went out; like a sent letter, only for the company's own deliveries that went out."""
    with services().db.session() as db:
        company_or_404(db, company_id)
        delivery = db.get(Delivery, delivery_id)
        if delivery is None or delivery.company_id != company_id or \
                delivery.state not in SHOWN_STATES:
            abort(404)
    try:
        pdf = sent_pdfs.SentPdfStore(services().db).get(delivery_id, number)
    except FileStoreError:
        abort(404)
    return Response(pdf.content, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{_safe_filename(pdf.filename)}"',
        "Cache-Control": "private, no-store"})


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "bijlage.pdf"


@bp.get("/cases/<case_id>/next-letter.pdf")
@login_required
def next_letter(company_id: str, case_id: str) -> Response:
    """"Bekijk brief": the PDF of the case's next planned letter or stamp before it goes out,
    made by the template preview from the company's own text (or the default) on this case."""
    with services().db.session() as db:
        company_or_404(db, company_id)
        case = case_or_404(db, company_id, case_id)
        planned = planned_delivery(db, case)
        if planned is None or planned.template not in PDF_TEMPLATES:
            abort(404)
        name = planned.template
        lang = message_language(settings_for(db, company_id).language, case.debtor.country)
        own = override_for(db, company_id, name, lang)
        partner = current_partner(db, services().settings)
        preview = build_preview(db, company_id, name, lang,
                                own.body if own else default_source(name, lang),
                                partner=partner.name, case_id=case.id)
    if preview.message is None:
        return Response(_("Geen PDF: %(error)s", error=preview.error), status=422,
                        mimetype="text/plain; charset=utf-8")
    make = render_stamp_pdf if name == "stamp" else render_letter_pdf
    return Response(make(preview.message, partner, lang=lang), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="voorbeeld-{name}.pdf"',
                             "Cache-Control": "no-store"})
