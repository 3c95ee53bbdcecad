"""The creditor's overview (dashboard), the go-live confirmation, and the partner's dashboard.

The dashboard is the company's first tab; the settings page is its own tab. Figures come from
:mod:`connector.reports`; charts are server-rendered SVG, each with its numbers in a table.
Going live is a confirmation step: the summary of what will go out and cost is computed from
the real plan, and the creditor can first limit the backlog.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, format_percent
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from connector import events
from connector.clock import today_nl
from connector.collection.backlog import apply_limits
from connector.collection.cases import policy_for, settings_for
from connector.formatting import day_month
from connector.models import Case, CaseState, Company, Debtor
from connector.reports import figures, golive, loading
from connector.reports.charts import Bar, bar_chart
from connector.web.access import actor, company_or_404, login_required, services
from connector.web.filters import money
from connector.web.i18n import format_locale
from connector.web.operator import operator_required

bp = Blueprint("dashboard", __name__)
AGE_LABELS = {
    "not_due": _l("nog niet vervallen"),
    "1-30": _l("1–30 dagen te laat"),
    "31-60": _l("31–60 dagen te laat"),
    "61-90": _l("61–90 dagen te laat"),
    "90+": _l("meer dan 90 dagen te laat"),
}
STAGE_LABELS = {"on_hold": _l("on hold"), "ready_for_handover": _l("klaar voor overdracht")}
MAX_WITHIN_DAYS = 365
MAX_BACKLOG_DAYS = 3650
DEBTOR_CHOICES = 200  # debtors offered for exclusion on the go-live page, largest first


@bp.app_template_filter("percent")
def percent_filter(value: Decimal | None) -> str:
    """12.3 → "12,3%" (nl) or "12.3%" (en)."""
    if value is None:
        return "–"
    return format_percent(value / 100, "#,##0.0%", locale=format_locale())


@bp.app_template_filter("decimal")
def decimal_filter(value: Decimal | None) -> str:
    return "–" if value is None else format_decimal(value, "#,##0.0", locale=format_locale())


@bp.app_template_filter("month_shift")
def month_shift(month: str, by: int) -> str:
    """"2026-01" shifted by -1 → "2025-12" (the statement's previous and next month)."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class InvalidLimit(ValueError):
    """A backlog limit or a period typed wrongly; the message says what to type."""


def _within_days() -> int:
    value = request.args.get("binnen", "")
    if value.isdigit() and 1 <= int(value) <= MAX_WITHIN_DAYS:
        return int(value)
    return figures.DEFAULT_WITHIN_DAYS


def _count(value: int) -> str:
    return format_decimal(value, locale=format_locale())


def _charts(board: loading.Dashboard) -> dict[str, Any]:
    """The dashboard's charts (SVG) with the same numbers the tables show."""
    ageing = [Bar(str(AGE_LABELS[b.key]), b.amount, f"{money(b.amount)} · {_count(b.count)}")
              for b in board.ageing.buckets]
    recovered = [Bar(s.name, s.amount,
                     f"{money(s.amount)} · {_count(s.cases)}")
                 for s in board.recovery.by_step]
    stages = [Bar(_stage_label(s), Decimal(s.count), _count(s.count)) for s in board.stages]
    return {
        "ageing": bar_chart(_("Openstaand naar ouderdom"), ageing, chart_id="chart-ageing"),
        "recovered": bar_chart(_("Betaald na stap"), recovered, chart_id="chart-recovered")
        if recovered else None,
        "stages": bar_chart(_("Lopende dossiers per fase"), stages, chart_id="chart-stages")
        if stages else None,
    }


def _stage_label(stage: figures.Stage) -> str:
    if stage.key == "step":
        return _("wacht op: %(step)s", step=stage.name) if stage.name else _("wacht op een stap")
    return str(STAGE_LABELS[stage.key])


@bp.get("/companies/<company_id>/dashboard")
@login_required
def company(company_id: str) -> str:
    within = _within_days()
    with services().db.session() as db:
        found = company_or_404(db, company_id)
        settings = settings_for(db, company_id)
        board = loading.dashboard(db, [company_id], today_nl(), within)
        live = settings.live
        barred = len(loading.time_barred_invoices(db, company_id, today_nl()))
    return render_template("web/dashboard.html", company=found, board=board, live=live,
                           barred=barred,
                           charts=_charts(board), stage_label=_stage_label, age_labels=AGE_LABELS,
                           within=within)


@bp.get("/companies/<company_id>/verjaard")
@login_required
def time_barred(company_id: str) -> str:
    with services().db.session() as db:
        found = company_or_404(db, company_id)
        rows = loading.time_barred_invoices(db, company_id, today_nl())
        return render_template("web/time_barred.html", company=found, rows=rows)


# -- going live -------------------------------------------------------------------------------


def _limits(source: Any, company_id: str, db: Session) -> golive.BacklogLimits:
    """Backlog limits from a form or query string; raises InvalidLimit with a clear message."""
    text = (source.get("max_dagen") or "").strip()
    days = None
    if text:
        if not text.isdigit() or not 1 <= int(text) <= MAX_BACKLOG_DAYS:
            raise InvalidLimit(_("Vul bij 'alleen facturen minder dan … dagen vervallen' een "
                                 "heel aantal dagen in tussen 1 en %(max)d, of laat het leeg.",
                                 max=MAX_BACKLOG_DAYS))
        days = int(text)
    wanted = {value for value in source.getlist("uitsluiten") if value.isalnum()}
    known = set(db.scalars(select(Debtor.id).where(Debtor.company_id == company_id,
                                                   Debtor.id.in_(wanted)))) if wanted else set()
    return golive.BacklogLimits(days, frozenset(known))


def summary_line(summary: golive.GoLiveSummary) -> list[str]:
    """The summary as short parts, joined with " · " on the page (Babel-formatted)."""
    parts = [ngettext("%(count)s dossier", "%(count)s dossiers", summary.cases,
                      count=_count(summary.cases)),
             ngettext("vandaag %(count)s herinnering", "vandaag %(count)s herinneringen",
                      summary.today_messages, count=_count(summary.today_messages))]
    for step in summary.paid_steps:
        parts.append(_("vanaf %(day)s tot ca. %(num)s × %(step)s à %(fee)s ≈ %(total)s excl. btw",
                       day=day_month(step.first_day, format_locale()),
                       num=_count(step.messages), step=step.name, fee=money(step.fee),
                       total=money(step.cost)))
    return parts


def _debtor_choices(db: Session, company_id: str) -> list[dict[str, Any]]:
    rows = db.execute(
        select(Debtor.id, Debtor.name, func.count(Case.id), func.sum(Case.principal))
        .join(Case, Case.debtor_id == Debtor.id)
        .where(Case.company_id == company_id, Case.state == CaseState.ACTIVE.value)
        .group_by(Debtor.id, Debtor.name)
        .order_by(func.sum(Case.principal).desc(), Debtor.name)
        .limit(DEBTOR_CHOICES))
    return [{"id": r[0], "name": r[1], "cases": r[2], "amount": r[3]} for r in rows]


def _golive_page(db: Session, found: Company, limits: golive.BacklogLimits,
                 problem: str | None = None, typed: str = "") -> str:
    settings = settings_for(db, found.id)
    summary = golive.summarise(loading.planned_cases(db, found.id), policy_for(db, found.id),
                               today_nl(), limits)
    return render_template(
        "web/golive.html", company=found, summary=summary, line=summary_line(summary),
        limits=limits, debtors=_debtor_choices(db, found.id), problem=problem,
        max_days=typed if problem else (limits.max_days_overdue or ""),
        has_iban=bool((settings.sender or {}).get("iban")), live=settings.live,
        back=_back_to_settings())


def _back_to_settings() -> bool:
    """Whether the confirmation was opened from the settings tab (and returns there)."""
    source = request.form if request.method == "POST" else request.args
    return source.get("terug") == "instellingen"


@bp.get("/companies/<company_id>/go-live")
@login_required
def confirm_live(company_id: str) -> str:
    with services().db.session() as db:
        found = company_or_404(db, company_id)
        try:
            limits = _limits(request.args, company_id, db)
        except InvalidLimit as exc:
            return _golive_page(db, found, golive.BacklogLimits(), str(exc),
                                request.args.get("max_dagen", ""))
        return _golive_page(db, found, limits)


@bp.post("/companies/<company_id>/go-live")
@login_required
def go_live(company_id: str) -> str | Response:
    with services().db.session() as db:
        found = company_or_404(db, company_id)
        try:
            limits = _limits(request.form, company_id, db)
        except InvalidLimit as exc:
            return _golive_page(db, found, golive.BacklogLimits(), str(exc),
                                request.form.get("max_dagen", ""))
        settings = settings_for(db, company_id)
        if settings.live:
            flash(_("Pre-incasso staat al live."), "success")
            return redirect(url_for("dashboard.company", company_id=company_id))
        if not (settings.sender or {}).get("iban"):
            return _golive_page(db, found, limits, _(
                "Vul eerst het IBAN van de schuldeiser in: zonder rekeningnummer gaat er geen "
                "herinnering uit."))
        today = today_nl()
        cases = loading.planned_cases(db, company_id)
        summary = golive.summarise(cases, policy_for(db, company_id), today, limits)
        dropped = apply_limits(db, company_id, cases, limits, actor(), today)
        settings.live, settings.updated_by = True, actor()
        events.record(db, "collection.mode",
                      "Pre-incasso staat live: geplande stappen gaan uit"
                      f" ({summary.cases} dossiers, {dropped} buiten de achterstand gelaten)",
                      company_id=company_id, actor=actor(), live=True, cases=summary.cases,
                      left_out=dropped, max_cost=f"{summary.max_cost:.2f}")
    flash(_("Pre-incasso staat live.") + " " + " · ".join(summary_line(summary)), "success")
    if _back_to_settings():
        return redirect(url_for("companies.show", company_id=company_id, _anchor="preincasso"))
    return redirect(url_for("dashboard.company", company_id=company_id))


# -- the partner's dashboard ------------------------------------------------------------------


@bp.get("/operator/dashboard")
@operator_required
def partner() -> str:
    within = _within_days()
    wanted = request.args.get("bedrijf", "")
    provider = request.args.get("pakket", "")
    with services().db.session() as db:
        companies = list(db.scalars(select(Company).order_by(Company.name)))
        shown = [c for c in companies
                 if (not wanted or c.id == wanted) and (not provider or c.provider == provider)]
        today = today_nl()
        ids = [c.id for c in shown]
        board = loading.dashboard(db, ids, today, within)
        rows = [{"company": c, "board": loading.dashboard(db, [c.id], today, within)}
                for c in shown]
        providers = sorted({c.provider for c in companies})
    return render_template("web/operator/dashboard.html", board=board, rows=rows,
                           companies=companies, providers=providers, wanted=wanted,
                           provider=provider, charts=_charts(board), stage_label=_stage_label,
                           age_labels=AGE_LABELS, within=within, today=today)

