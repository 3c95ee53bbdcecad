"""Live progress of sending on the creditor's pages: "37 van 156 herinneringen verstuurd".

While steps are going out (after going live, after a bulk approval) the dashboard and the
settings page show how far it got, counted from the deliveries
(:mod:`connector.reports.sending`), and ``static/progress.js`` asks this small JSON endpoint
again every few seconds until nothing is left (no inline script: the CSP forbids it). Without
JavaScript the line is still there; reloading the page brings it up to date.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from connector.models import utcnow
from connector.reports.sending import SendProgress, send_progress
from connector.web.access import company_or_404, login_required, may_see, services
from connector.web.filters import moment

bp = Blueprint("progress", __name__, url_prefix="/companies/<company_id>")
POLL_MS = 4000  # while sending: often enough to watch it move, cheap (three counts)
IDLE_POLL_MS = 60_000  # outside the contact window: sending resumes in the morning


def progress_text(progress: SendProgress) -> str:
    text = ngettext("%(sent)d van %(num)d herinnering verstuurd",
                    "%(sent)d van %(num)d herinneringen verstuurd", progress.total,
                    sent=progress.sent)
    if progress.failed:
        text += " · " + ngettext("%(num)d mislukt", "%(num)d mislukt", progress.failed)
    if progress.resumes_at is not None:
        text += " · " + _("de rest gaat uit vanaf %(moment)s", moment=moment(progress.resumes_at))
    elif not progress.running and progress.total:
        text += " · " + _("klaar")
    return text


def progress_view(progress: SendProgress) -> dict[str, Any]:
    return {
        "sent": progress.sent, "failed": progress.failed, "waiting": progress.waiting,
        "total": progress.total, "running": progress.running, "text": progress_text(progress),
        "poll_ms": IDLE_POLL_MS if progress.resumes_at is not None else POLL_MS,
    }


@bp.app_template_global("send_progress")
def current_progress(company_id: str) -> dict[str, Any] | None:
    """For the pages: today's sending while it runs, else None (nothing is shown)."""
    if not may_see(company_id):
        return None
    with services().db.session() as db:
        progress = send_progress(db, company_id, utcnow())
    return progress_view(progress) if progress.running else None


@bp.get("/send-progress")
@login_required
def show(company_id: str) -> Response:
    with services().db.session() as db:
        company_or_404(db, company_id)
        progress = send_progress(db, company_id, utcnow())
    response = jsonify(progress_view(progress))
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["bp", "current_progress", "progress_text", "progress_view"]
