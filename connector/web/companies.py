"""A company's settings page: connection, last sync, overdue invoices, notes written back."""

from __future__ import annotations

import secrets
from typing import Any

from babel.numbers import format_decimal
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector import connections, events, writeback
from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.collection.engine import sendable
from connector.collection.template_preview import PDF_TEMPLATES
from connector.models import (
    Case,
    Company,
    Delivery,
    DeliveryCase,
    Event,
    Hold,
    Invoice,
    LedgerWrite,
    SyncRun,
    SyncState,
    utcnow,
)
from connector.pacing import backlog_plan
from connector.services import Services
from connector.sync import request_sync
from connector.web.access import (
    actor,
    company_or_404,
    creditor_companies,
    login_required,
    operator_id,
    page_arg,
    services,
)
from connector.web.alert_settings import switches
from connector.web.cases import case_console, next_step_label
from connector.web.collection import overview
from connector.web.forms import (
    HoldForm,
    NoteForm,
    PaymentForm,
    SenderForm,
)
from connector.web.i18n import format_locale
from connector.web.ledgers import plugin_for_key
from connector.web.payment_choices import ChoicesUnavailable, ledger_payment_choices
from connector.web.payment_settings import payment_settings_form_class
from providers.base import InvoiceStatus

bp = Blueprint("companies", __name__, url_prefix="/companies")
PAGE_SIZE = 50


@bp.get("/")
@login_required
def index() -> str:
    with services().db.session() as db:
        query = select(Company).order_by(Company.name)
        if not operator_id():
            query = query.where(Company.id.in_(creditor_companies()))
        companies = list(db.scalars(query))
        for company in companies:
            _loaded = company.connection and company.connection.grant  # load for the template
    return render_template("web/companies.html", companies=companies,
                           providers=list(services().providers))


def _overdue(db: Session, company_id: str, page: int) -> tuple[list[Invoice], int]:
    today = today_nl()
    where = (
        Invoice.company_id == company_id,
        Invoice.status == InvoiceStatus.OPEN.value,
        Invoice.due_date < today,
        Invoice.open_amount > 0,
    )
    total = db.scalar(select(func.count()).select_from(Invoice).where(*where)) or 0
    rows = db.scalars(
        select(Invoice).where(*where).order_by(Invoice.due_date, Invoice.number)
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    )
    invoices = list(rows)
    for invoice in invoices:
        _loaded = invoice.debtor
    return invoices, total


@bp.get("/<company_id>")
@login_required
def show(company_id: str) -> str:
    return company_page(company_id)


def company_page(company_id: str, *, sender_form: Any = None) -> str:
    """The settings page; ``sender_form``: a refused sender form, shown with what was typed
    and its errors next to the fields (a redirect would lose both)."""
    page = page_arg()
    svc = services()
    with svc.db.session() as db:
        company = company_or_404(db, company_id)
        connection = company.connection
        _loaded = connection and connection.grant
        state = db.get(SyncState, company_id)
        runs = list(db.scalars(select(SyncRun).where(SyncRun.company_id == company_id)
                               .order_by(SyncRun.started_at.desc()).limit(10)))
        overdue, overdue_total = _overdue(db, company_id, page)
        overdue_sum = db.scalar(
            select(func.coalesce(func.sum(Invoice.open_amount), 0)).where(
                Invoice.company_id == company_id, Invoice.status == InvoiceStatus.OPEN.value,
                Invoice.due_date < today_nl(), Invoice.open_amount > 0))
        writes = list(db.scalars(select(LedgerWrite).where(LedgerWrite.company_id == company_id)
                                 .order_by(LedgerWrite.created_at.desc()).limit(20)))
        for write in writes:
            _loaded = write.invoice
        log = list(db.scalars(select(Event).where(Event.company_id == company_id)
                              .order_by(Event.id.desc()).limit(20)))
        settings_form, choices_note = _payment_settings_form(
            svc, company, data=company.payment_settings or {})
        preincasso = overview(db, company_id)
        if sender_form is not None:
            preincasso["sender_form"] = sender_form
        alert_switches = switches(db, company_id)
        pacing = _pacing(svc, db, company, state)
        first_sync = _first_sync_progress(db, company_id, state, connection)
    return render_template(
        "web/company.html", company=company, connection=connection, state=state, runs=runs,
        overdue=overdue, overdue_total=overdue_total, overdue_sum=overdue_sum, page=page,
        pages=max((overdue_total + PAGE_SIZE - 1) // PAGE_SIZE, 1), writes=writes, log=log,
        today=today_nl(), settings_form=settings_form, preincasso=preincasso, pacing=pacing,
        choices_note=choices_note,
        alert_switches=alert_switches,
        first_sync=first_sync,
    )


def _pacing(svc, db: Session, company: Company, state: SyncState | None) -> dict:
    """What the page says about the API budget: sends spread over windows, and when the
    platform's limit lets the next round start (for sends, or for a postponed sync)."""
    plan = None
    if settings_for(db, company.id).live:
        plan = backlog_plan(svc, db, company.id, sendable(db, company.id, today_nl()))
    now = utcnow()
    sync_waits_until = (state.retry_at if state is not None and state.retry_at
                        and state.retry_at > now else None)
    return {"plan": plan, "sync_waits_until": sync_waits_until,
            "next_round": sync_waits_until or (plan.next_round if plan else None)}


def _first_sync_progress(
    db: Session, company_id: str, state: SyncState | None, connection: object | None
) -> dict[str, str] | None:
    """A first sync still going (perhaps over several budget windows): how far it got.

    The page refreshes itself while this is shown.
    """
    if connection is None or state is None or state.last_success_at is not None \
            or state.last_started_at is None:
        return None
    if getattr(connection, "disconnected_at", None) is not None:
        return None
    fetched = db.scalar(select(func.count()).select_from(Invoice).where(
        Invoice.company_id == company_id, Invoice.status == InvoiceStatus.OPEN.value)) or 0
    expected = state.expected_invoices
    return {"fetched": format_decimal(fetched, locale=format_locale()),
            "expected": format_decimal(expected, locale=format_locale()) if expected else ""}


@bp.post("/<company_id>/sync")
@login_required
def sync_now(company_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        request_sync(db, company_id)
    flash(_("Synchronisatie aangevraagd; dit duurt enkele seconden."), "info")
    return redirect(url_for("companies.show", company_id=company_id))


@bp.post("/<company_id>/disconnect")
@login_required
def disconnect(company_id: str) -> Response:
    svc = services()
    with svc.db.session() as db:
        company_or_404(db, company_id)
    connections.disconnect(svc, company_id, actor())
    flash(_("Ontkoppeld. De gegevens en het logboek blijven bewaard; koppel opnieuw om verder "
            "te gaan."), "info")
    return redirect(url_for("companies.show", company_id=company_id))


@bp.post("/<company_id>/payment-settings")
@login_required
def payment_settings(company_id: str) -> str | Response:
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        form, _note = _payment_settings_form(services(), company)
        if not form.validate_on_submit():
            for field, errors in form.errors.items():
                flash(f"{getattr(form, field).label.text}: {' '.join(map(str, errors))}", "error")
            return redirect(url_for("companies.show", company_id=company_id, _anchor="betalingen"))
        company.payment_settings = {
            name: (field.data or "").strip() or None
            for name, field in form._fields.items() if name != "csrf_token"
        }
        events.record(db, "company.payment_settings", "Instellingen voor betalingen gewijzigd",
                      company_id=company_id, actor=actor())
    flash(_("Opgeslagen."), "success")
    return redirect(url_for("companies.show", company_id=company_id))


def _payment_settings_form(svc: Services, company: Company,
                           **kwargs: object) -> tuple[FlaskForm, str | None]:
    """The payment settings form, its account ids as choices loaded from the ledger where the
    platform lists them; typed ids with a note when the ledger cannot be reached now."""
    plugin = plugin_for_key(company.provider)
    try:
        choices = ledger_payment_choices(svc, company, plugin) if plugin is not None else {}
    except ChoicesUnavailable:
        return payment_settings_form_class(plugin)(**kwargs), _(
            "De rekeningen konden nu niet uit uw boekhoudpakket worden geladen: vul het id "
            "zelf in, of probeer het later opnieuw.")
    form_class = payment_settings_form_class(plugin, choices, company.payment_settings)
    return form_class(**kwargs), None


def _invoice_or_404(db: Session, company: Company, invoice_id: str) -> Invoice:
    invoice = db.get(Invoice, invoice_id)
    if invoice is None or invoice.company_id != company.id:
        abort(404)
    return invoice


@bp.route("/<company_id>/invoices/<invoice_id>", methods=["GET", "POST"])
@login_required
def invoice(company_id: str, invoice_id: str) -> str | Response:
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        inv = _invoice_or_404(db, company, invoice_id)
        _loaded = inv.debtor
        note_form = NoteForm(prefix="note", submission=secrets.token_urlsafe(16))
        payment_form = PaymentForm(prefix="payment", open_amount=inv.open_amount,
                                   submission=secrets.token_urlsafe(16), amount=inv.open_amount)
        if request.method == "POST":
            done = _handle_invoice_post(db, inv, note_form, payment_form)
            if done:
                return redirect(url_for("companies.invoice", company_id=company_id,
                                        invoice_id=invoice_id))
        writes = list(db.scalars(select(LedgerWrite).where(LedgerWrite.invoice_id == inv.id)
                                 .order_by(LedgerWrite.created_at.desc())))
        connected = company.connection is not None and company.connection.status == "active"
        case = db.scalars(select(Case).where(Case.invoice_id == inv.id)).one_or_none()
        holds = list(db.scalars(select(Hold).where(
            or_(Hold.case_id == case.id, Hold.debtor_id == case.debtor_id))
            .order_by(Hold.created_at.desc()))) if case else []
        next_step = next_step_label(db, case) if case else None
        steps = list(db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case.id).order_by(Delivery.created_at))) if case else []
        console = case_console(db, case, steps, holds) if case else {}
        subjects = [inv.id, *console.get("subjects", [])]
        log = list(db.scalars(select(Event).where(Event.subject_id.in_(subjects))
                              .order_by(Event.id.desc()).limit(50)))
        return render_template("web/invoice.html", company=company, invoice=inv, writes=writes,
                               log=log, note_form=note_form, payment_form=payment_form,
                               today=today_nl(), connected=connected, case=case, holds=holds,
                               next_step=next_step, steps=steps, hold_form=HoldForm(),
                               console=console, pdf_templates=PDF_TEMPLATES)


def _handle_invoice_post(
    db: Session, inv: Invoice, note_form: NoteForm, payment_form: PaymentForm
) -> bool:
    if "note-text" in request.form:
        if note_form.validate_on_submit():
            if writeback.queue_note(db, inv, note_form.text.data.strip(), actor=actor(),
                                    key=_form_key(inv, "note", note_form.submission.data)) is None:
                flash(_("Voorbeeld: er wordt niets in het boekhoudpakket geschreven. "
                        "Ga live om notities en betalingen te boeken."), "error")
                return True
            flash(_("Notitie staat klaar en wordt binnen enkele seconden in het pakket gezet."),
                  "success")
            return True
    elif "payment-amount" in request.form:
        if inv.status != InvoiceStatus.OPEN:
            flash(_("Deze factuur staat niet meer open."), "error")
            return True
        if payment_form.validate_on_submit():
            if writeback.queue_payment(db, inv, payment_form.amount.data,
                                       payment_form.paid_on.data, actor=actor(),
                                       key=_form_key(inv, "payment",
                                                     payment_form.submission.data)) is None:
                flash(_("Voorbeeld: er wordt niets in het boekhoudpakket geschreven. "
                        "Ga live om notities en betalingen te boeken."), "error")
                return True
            flash(_("Betaling staat klaar en wordt binnen enkele seconden geboekt."), "success")
            return True
    return False


def _form_key(inv: Invoice, kind: str, submission: str | None) -> str | None:
    """The server's key for this form's write: submitting the same form twice queues one write;
    the form only carries a token the key is derived from, never the key itself."""
    if submission and 8 <= len(submission) <= 64:
        return writeback.form_key(inv.company_id, inv.id, kind, submission)
    return None


@bp.post("/<company_id>/sender")
@login_required
def sender(company_id: str) -> Response | tuple[str, int]:
    """The sender card (in whose name steps go out); refused input comes back on the page."""
    form = SenderForm()
    with services().db.session() as db:
        company_or_404(db, company_id)
        if not form.validate_on_submit():
            flash(_("Niet opgeslagen: controleer de gemarkeerde velden bij Afzender."), "error")
            return company_page(company_id, sender_form=form), 400
        settings = settings_for(db, company_id)
        settings.sender = {k: (getattr(form, k).data or "").strip()
                           for k in ("name", "iban", "email", "phone")}
        events.record(db, "collection.sender", "Afzendergegevens gewijzigd",
                      company_id=company_id, actor=actor())
    flash(_("Afzendergegevens opgeslagen."), "success")
    return redirect(url_for("companies.show", company_id=company_id, _anchor="afzender"))
