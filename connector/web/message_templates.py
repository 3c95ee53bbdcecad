"""Sjablonen: a company edits its message templates, previews them on a real case, resets them.

Every route goes through :func:`company_or_404` (another creditor's company is a 404 and stays
untouched) and every form carries a CSRF token. A template is only stored when
:func:`validate_template` finds nothing; the preview stores nothing at all. Logs name the
company and template, never debtor data or the text.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from connector.channels.documents import render_letter_pdf, render_stamp_pdf
from connector.collection.cases import settings_for
from connector.collection.company_templates import (
    TemplateRefused,
    override_for,
    overrides,
    reset_template,
    save_template,
)
from connector.collection.messages import (
    LANGS,
    TEMPLATE_NAMES,
    default_source,
)
from connector.collection.template_check import (
    allowed_variables,
    static_problems,
    validate_template,
)
from connector.collection.template_preview import (
    PDF_TEMPLATES,
    build_preview,
    case_label,
    preview_cases,
)
from connector.partner import current_partner
from connector.web.access import actor, company_or_404, login_required, services
from connector.web.forms import ResetTemplateForm, TemplateForm

log = logging.getLogger(__name__)
bp = Blueprint("message_templates", __name__, url_prefix="/companies/<company_id>/templates")


def _known(name: str, lang: str) -> None:
    if name not in TEMPLATE_NAMES or lang not in LANGS:
        abort(404)


@bp.get("/")
@login_required
def index(company_id: str) -> str:
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        own = overrides(db, company_id)
        # labels in the UI's language: the template_label and lang_label filters
        rows = [{"name": name, "langs": [{"lang": lang, "own": own.get((name, lang))}
                                         for lang in LANGS]}
                for name in TEMPLATE_NAMES]
        return render_template("web/templates.html", company=company, rows=rows)


@bp.route("/<name>/<lang>", methods=["GET", "POST"])
@login_required
def edit(company_id: str, name: str, lang: str) -> str | Response:
    _known(name, lang)
    form = TemplateForm()
    problems: list[str] = []
    preview = None
    with services().db.session() as db:
        company = company_or_404(db, company_id)
        cases = preview_cases(db, company_id)
        form.case_id.choices = [(c.id, case_label(c)) for c in cases]
        own = override_for(db, company_id, name, lang)
        if request.method == "POST":
            if not form.validate_on_submit():
                # The page again with what was typed and the errors next to the fields: a
                # redirect here lost a whole edited text (e.g. after the form's token expired).
                return _edit_page(company, form, name, lang, own, [], None, cases,
                                  iban_missing=_iban_missing(db, company_id)), 400
            body = form.body.data or ""
            if form.save.data:
                try:
                    save_template(db, company_id, name, lang, body, actor())
                except TemplateRefused as refused:
                    problems = refused.problems
                    log.info("template %s/%s of company %s refused (%d problems)", name, lang,
                             company_id, len(problems))
                else:
                    log.info("template %s/%s of company %s saved", name, lang, company_id)
                    flash(_("Sjabloon opgeslagen; nieuwe berichten gebruiken deze tekst."),
                          "success")
                    return redirect(url_for(".edit", company_id=company_id, name=name,
                                            lang=lang))
            else:
                problems = validate_template(name, lang, body)
            # The same static check as saving: a macro or a loop bomb is never rendered.
            if not static_problems(name, body):
                preview = build_preview(db, company_id, name, lang, body,
                                        partner=current_partner(db, services().settings).name,
                                        case_id=form.case_id.data or None)
        else:
            form.body.data = own.body if own else default_source(name, lang)
            if cases:
                form.case_id.data = cases[0].id
        return _edit_page(company, form, name, lang, own, problems, preview, cases,
                          iban_missing=_iban_missing(db, company_id))


def _iban_missing(db, company_id: str) -> bool:
    """The preview fills in a sample IBAN when the creditor has none: say so, loudly."""
    return not (settings_for(db, company_id).sender or {}).get("iban")


def _edit_page(company, form: TemplateForm, name: str, lang: str, own, problems: list[str],
               preview, cases: list, *, iban_missing: bool) -> str:
    return render_template(
        "web/template_edit.html", company=company, form=form, name=name, lang=lang,
        own=own,
        problems=problems, preview=preview, has_cases=bool(cases),
        variables=allowed_variables(name), pdf=name in PDF_TEMPLATES,
        reset_form=ResetTemplateForm(), iban_missing=iban_missing)


@bp.post("/<name>/<lang>/reset")
@login_required
def reset(company_id: str, name: str, lang: str) -> Response:
    _known(name, lang)
    form = ResetTemplateForm()
    with services().db.session() as db:
        company_or_404(db, company_id)
        if not form.validate_on_submit():
            abort(400)
        if reset_template(db, company_id, name, lang, actor()):
            flash(_("Terug naar de standaardtekst."), "success")
        else:
            flash(_("Dit sjabloon gebruikte al de standaardtekst."), "success")
    return redirect(url_for(".edit", company_id=company_id, name=name, lang=lang))


@bp.post("/<name>/<lang>/pdf")
@login_required
def pdf(company_id: str, name: str, lang: str) -> Response:
    """The letter or stamp PDF for the text in the form (not saved), as the debtor gets it."""
    _known(name, lang)
    if name not in PDF_TEMPLATES:
        abort(404)
    form = TemplateForm()
    with services().db.session() as db:
        company_or_404(db, company_id)
        if not form.validate_on_submit():
            abort(400)
        refused = static_problems(name, form.body.data or "")
        if refused:
            return Response(_("Geen PDF: %(error)s", error=" ".join(refused)), status=422,
                            mimetype="text/plain; charset=utf-8")
        preview = build_preview(db, company_id, name, lang, form.body.data or "",
                                partner=current_partner(db, services().settings).name,
                                case_id=form.case_id.data or None)
    if preview.message is None:
        return Response(_("Geen PDF: %(error)s", error=preview.error), status=422,
                        mimetype="text/plain; charset=utf-8")
    with services().db.session() as db:
        partner = current_partner(db, services().settings)  # as operators last saved it
    make = render_stamp_pdf if name == "stamp" else render_letter_pdf
    document = make(preview.message, partner, lang=lang)
    return Response(document, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="voorbeeld-{name}-{lang}.pdf"',
        "Cache-Control": "no-store"})
