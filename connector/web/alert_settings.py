"""The creditor's e-mail alerts and weekly summary: one switch per kind on the company page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from connector import alerts, events
from connector.web.access import actor, company_or_404, login_required, services

bp = Blueprint("alert_settings", __name__, url_prefix="/companies/<company_id>")
LABELS = {
    alerts.DISPUTE: _l("Een debiteur betwist een factuur"),
    alerts.PROMISE_BROKEN: _l("Een betaalbelofte is niet nagekomen"),
    alerts.STEP_FAILED: _l("Een stap kon niet worden verstuurd"),
    alerts.RECONNECT: _l("De koppeling moet opnieuw worden gemaakt"),
    alerts.WEEKLY: _l("Weekoverzicht (maandagochtend)"),
}


def switches(db, company_id: str) -> list[tuple[str, str, bool]]:
    """(kind, label, on) for the page, in the page's order."""
    return [(kind, str(LABELS[kind]), alerts.enabled(db, company_id, kind))
            for kind in alerts.KINDS]


@bp.post("/alerts")
@login_required
def update(company_id: str) -> Response:
    wanted = {kind: kind in request.form.getlist("alert") for kind in alerts.KINDS}
    with services().db.session() as db:
        company_or_404(db, company_id)
        alerts.set_switches(db, company_id, wanted)
        on = [kind for kind, value in wanted.items() if value]
        events.record(db, "alerts.settings", f"Meldingen per e-mail: {len(on)} van "
                      f"{len(wanted)} aan", company_id=company_id, actor=actor())
    flash(_("Meldingen opgeslagen."), "success")
    return redirect(url_for("companies.show", company_id=company_id, _anchor="meldingen"))
