"""The start page: connect a platform, or continue to your companies."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from connector.collection.policy import default_policy
from connector.reports.costline import timeline
from connector.web.access import operator_id, services, signed_in

bp = Blueprint("home", __name__)
# Short words for the one-line cost line (the full channel names make it three lines).
SHORT_CHANNELS = {"stamp": _l("herinnering met stempel"), "letter": _l("Profitletter"),
                  "email": _l("e-mail"), "sms": _l("sms"), "whatsapp": _l("WhatsApp"),
                  "call": _l("telefoontje")}


@bp.get("/")
def index() -> str | Response:
    if operator_id():  # an operator's work starts on the console (also right after sign-in)
        return redirect(url_for("operator.index"))
    if signed_in():
        return redirect(url_for("companies.index"))
    steps = timeline(default_policy())
    return render_template("web/home.html", providers=list(services().providers), steps=steps,
                           paid_steps=[step for step in steps if step.fee > 0],
                           short=SHORT_CHANNELS)
