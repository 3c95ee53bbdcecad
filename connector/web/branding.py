"""The creditor's logo for its letters: upload, show, remove.

The file is checked by opening and decoding it with Pillow (not by its name or the browser's
content type) and served back only to whoever may see the company, with its checked type.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from connector import events
from connector.collection.cases import settings_for
from connector.web.access import actor, company_or_404, login_required, services
from connector.web.settings_forms import LogoForm

bp = Blueprint("branding", __name__, url_prefix="/companies/<company_id>/logo")


def _back(company_id: str) -> Response:
    return redirect(url_for("companies.show", company_id=company_id, _anchor="afzender"))


@bp.get("")
@login_required
def show(company_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        settings = settings_for(db, company_id)
        if not settings.logo or settings.logo_mime not in ("image/png", "image/jpeg"):
            abort(404)
        content, mime = settings.logo, settings.logo_mime
    return Response(content, mimetype=mime, headers={
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "Content-Disposition": "inline",
    })


@bp.post("")
@login_required
def upload(company_id: str) -> Response:
    form = LogoForm()
    with services().db.session() as db:
        company_or_404(db, company_id)
        if not form.validate_on_submit():
            for errors in form.errors.values():
                flash(_("Logo niet opgeslagen: %(error)s", error=" ".join(map(str, errors))),
                      "error")
            return _back(company_id)
        settings = settings_for(db, company_id)
        settings.logo, settings.logo_mime = form.content, form.mime
        settings.updated_by = actor()
        events.record(db, "collection.logo", "Logo voor de brieven gewijzigd",
                      company_id=company_id, actor=actor())
    flash(_("Logo opgeslagen; het staat voortaan op de Profitletter."), "success")
    return _back(company_id)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Response:
    """A file far above the limit is cut off before the form sees it: say so, as the form would."""
    flash(_("Logo niet opgeslagen: %(error)s",
            error=_("Het bestand is groter dan 500 kB; verklein het logo.")), "error")
    company_id = (request.view_args or {}).get("company_id", "")
    return redirect(url_for("companies.show", company_id=company_id, _anchor="afzender"))


@bp.post("/delete")
@login_required
def delete(company_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        settings = settings_for(db, company_id)
        if settings.logo:
            settings.logo, settings.logo_mime, settings.updated_by = None, None, actor()
            events.record(db, "collection.logo", "Logo voor de brieven verwijderd",
                          company_id=company_id, actor=actor())
    flash(_("Logo verwijderd."), "success")
    return _back(company_id)
