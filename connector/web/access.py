"""Who is signed in, and which companies they may see.

Operators see every company. A creditor sees only the companies whose tenant its OAuth grant
proved control of (kept in the session); anything else is a 404, never a 403, so ids of other
companies cannot even be confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from connector.models import Case, Company, Operator
from connector.services import Services

F = TypeVar("F", bound=Callable[..., Any])


def services() -> Services:
    from flask import current_app

    return current_app.extensions["connector"]


def operator_id() -> str | None:
    """The signed-in operator, if the operator still exists and the session's version is the
    operator's current one (sign-out and a new password bump it). Checked once per request."""
    claimed = session.get("operator_id")
    if not claimed:
        return None
    if g.get("operator_checked") != claimed:
        with services().db.session() as db:
            operator = db.get(Operator, claimed)
            valid = operator is not None and operator.session_version == session.get(
                "operator_version")
        g.operator_checked = claimed
        g.operator_valid = valid
    if not g.operator_valid:
        for key in ("operator_id", "operator_email", "operator_version"):
            session.pop(key, None)
        return None
    return claimed


def creditor_companies() -> list[str]:
    return list(session.get("companies", []))


def grant_companies(company_ids: list[str]) -> None:
    session["companies"] = sorted(set(creditor_companies()) | set(company_ids))


def signed_in() -> bool:
    return bool(operator_id() or creditor_companies())


def actor() -> str:
    return f"operator:{session.get('operator_email')}" if operator_id() else "creditor"


def may_see(company_id: str) -> bool:
    return bool(operator_id()) or company_id in creditor_companies()


def company_or_404(db: Session, company_id: str) -> Company:
    company = db.get(Company, company_id) if may_see(company_id) else None
    if company is None:
        abort(404)
    return company


def case_or_404(db: Session, company_id: str, case_id: str) -> Case:
    """A case of this company (the caller checked the company); another's is a 404."""
    case = db.get(Case, case_id)
    if case is None or case.company_id != company_id:
        abort(404)
    return case


MAX_PAGE = 10_000  # far past any real list; ?page=10**20 would overflow the SQL OFFSET


def page_arg() -> int:
    """The ``?page=`` of a paged list: a whole number from 1 to :data:`MAX_PAGE` (else 1 or
    the maximum); a page past the end is simply empty."""
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signed_in():
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
