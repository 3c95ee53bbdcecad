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
from connector.db import Database
from connector.emails import normalised_email
from connector.models import Operator, utcnow
from connector.web import login_limits
from connector.web.access import operator_id, services
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
        # Counted before the password is checked, in one step: parallel guesses cannot all
        # slip in under the limit.
        attempt = login_limits.reserve_attempt(services().db, form.email.data, client)
        if attempt.wait is not None:
            minutes = max(1, -(-int(attempt.wait.total_seconds()) // 60))
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
                session["operator_version"] = operator.session_version
                operator.last_login_at = utcnow()
                events.record(db, "operator.login", "Operator ingelogd",
                              actor=f"operator:{operator.email}")
        if accepted:
            login_limits.clear(services().db, form.email.data, attempt)
            return redirect(safe_next(form.next.data))
        login_limits.purge_expired(services().db)
        flash(_("E-mailadres of wachtwoord klopt niet."), "error")
    return render_template("web/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    signed_in_as = operator_id()
    if signed_in_as:
        with services().db.session() as db:
            operator = db.get(Operator, signed_in_as)
            if operator is not None:  # every copy of this cookie stops working too
                operator.session_version += 1
    _clear_session()
    flash(_("U bent uitgelogd."), "info")
    return redirect(url_for("home.index"))


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise ValueError("a password needs at least 10 characters")


def add_operator(email: str, password: str, db: Database | None = None) -> str:
    """Create an operator (used by ``connector operator add``); returns its id.

    The address must pass the sign-in form's rule (connector.emails), or nobody could sign in.
    """
    email = normalised_email(email)
    _check_password(password)
    with (db or services().db).session() as db:
        exists = db.scalars(
            select(Operator).where(func.lower(Operator.email) == email.lower())
        ).one_or_none()
        if exists:
            raise ValueError(f"operator {email} already exists")
        operator = Operator(email=email, password_hash=generate_password_hash(password))
        db.add(operator)
        db.flush()
        return operator.id


def set_password(db: Database, email: str, password: str) -> None:
    """A new password for an operator; every session signed in before it ends."""
    _check_password(password)
    with db.session() as session:
        operator = session.scalars(
            select(Operator).where(func.lower(Operator.email) == (email or "").strip().lower())
        ).one_or_none()
        if operator is None:
            raise ValueError(f"no operator {email}")
        operator.password_hash = generate_password_hash(password)
        operator.session_version += 1
        events.record(session, "operator.password", "Wachtwoord van operator gewijzigd",
                      actor="system")
