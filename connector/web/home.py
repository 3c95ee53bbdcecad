"""The start page: connect a platform, or continue to your companies."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from connector.collection.policy import default_policy
from connector.reports.costline import timeline
from connector.web.access import services, signed_in

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str | Response:
    if signed_in():
        return redirect(url_for("companies.index"))
    steps = timeline(default_policy())
    return render_template("web/home.html", providers=list(services().providers), steps=steps,
                           paid_steps=[step for step in steps if step.fee > 0])
