"""Operator sign-in with a password. Creditors sign in through their platform's OAuth."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from connector import events
from connector.emails import normalised_email
from connector.models import Operator, utcnow
from connector.web import login_limits
from connector.web.access import services
from connector.web.forms import LoginForm

bp = Blueprint("auth", __name__)
# Checked against when the e-mail is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def safe_next(target: str | None) -> str:
    """A local path to redirect to, else ``/``: never another site (``//host``, ``/\\host``)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return "/"
    return target


def _clear_session() -> None:
    """Start a fresh session (sign-in, sign-out) but keep the chosen UI language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        client = request.remote_addr or "unknown"
        wait = login_limits.locked_for(services().db, form.email.data, client)
        if wait is not None:
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            flash(ngettext("Te veel mislukte pogingen. Probeer het over %(num)d minuut opnieuw.",
                           "Te veel mislukte pogingen. Probeer het over %(num)d minuten opnieuw.",
                           minutes), "error")
            return render_template("web/login.html", form=form), 429
        with services().db.session() as db:
            operator = db.scalars(
                select(Operator).where(func.lower(Operator.email) == form.email.data.lower())
            ).one_or_none()
            valid = check_password_hash(
                operator.password_hash if operator else _DUMMY_HASH, form.password.data
            )
            accepted = bool(operator and valid)
            if operator and accepted:
                _clear_session()
                session["operator_id"] = operator.id
                session["operator_email"] = operator.email
                operator.last_login_at = utcnow()
                events.record(db, "operator.login", "Operator ingelogd",
                              actor=f"operator:{operator.email}")
        if accepted:
            login_limits.clear(services().db, form.email.data)
            return redirect(safe_next(form.next.data))
        login_limits.record_failure(services().db, form.email.data, client)
        flash(_("E-mailadres of wachtwoord klopt niet."), "error")
    return render_template("web/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    _clear_session()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("home.index"))


def add_operator(email: str, password: str) -> str:
    """Create an operator (used by ``connector operator add``); returns its id.

    The address must pass the sign-in form's rule (connector.emails), or nobody could sign in.
    """
    email = normalised_email(email)
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")
    with services().db.session() as db:
        exists = db.scalars(
            select(Operator).where(func.lower(Operator.email) == email.lower())
        ).one_or_none()
        if exists:
            raise ValueError(f"operator {email} already exists")
        operator = Operator(email=email, password_hash=generate_password_hash(password))
        db.add(operator)
        db.flush()
        return operator.id
