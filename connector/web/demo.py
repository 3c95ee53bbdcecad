"""Demo only: what would have reached debtors (captured mail and SMS). Operators only."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template
from sqlalchemy import select

from connector.debtor_page.links import url_of
from connector.models import Company, DebtorLink, Delivery
from connector.web.access import login_required, operator_id, page_arg, services

bp = Blueprint("demo", __name__, url_prefix="/demo")
PER_PAGE = 25


def _captured() -> tuple[Any, Any]:
    mail = current_app.extensions.get("demo_mail")
    if mail is None or not operator_id():
        abort(404)
    return mail, current_app.extensions.get("demo_sms")


@bp.get("/messages")
@login_required
def messages() -> str:
    """Every captured e-mail, newest first and a page at a time, with when it went out, for
    which company and its attachments to open."""
    mail, sms = _captured()
    everything = list(mail.messages)
    page = page_arg()
    numbered = list(reversed(list(enumerate(everything))))
    shown_rows = numbered[(page - 1) * PER_PAGE:page * PER_PAGE]
    companies = _companies_by_message_id([m["Message-ID"] for _n, m in shown_rows])
    shown = []
    for number, message in shown_rows:
        body = message.get_body(("plain",))
        shown.append({
            "number": number, "from": message["From"], "to": message["To"],
            "reply_to": message["Reply-To"], "subject": message["Subject"],
            "id": message["Message-ID"], "at": _sent_at(message),
            "company": companies.get(message["Message-ID"] or "") or _sender_name(message),
            "body": body.get_content() if body else "",
            "attachments": [part.get_filename() or f"bijlage-{n + 1}"
                            for n, part in enumerate(message.iter_attachments())],
        })
    texts = list(reversed(sms.messages[-50:])) if sms is not None else []
    pages = max((len(everything) + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template("web/demo_messages.html", mails=shown, texts=texts,
                           pages=_debtor_pages(), mail_total=len(everything), page=page,
                           mail_pages=pages)


@bp.get("/messages/<int:number>/attachments/<int:index>")
@login_required
def attachment(number: int, index: int) -> Response:
    """One attachment of a captured e-mail (the letter or the stamped invoice PDF), opened."""
    mail, _sms = _captured()
    if not 0 <= number < len(mail.messages):
        abort(404)
    parts = list(mail.messages[number].iter_attachments())
    if not 0 <= index < len(parts):
        abort(404)
    part = parts[index]
    name = (part.get_filename() or f"bijlage-{index + 1}").replace('"', "")
    return Response(part.get_content(), mimetype=part.get_content_type(), headers={
        "Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})


def _sent_at(message: Any) -> Any:
    try:
        return parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        return None


def _sender_name(message: Any) -> str:
    sender = message["From"]
    return getattr(getattr(sender, "addresses", [None])[0], "display_name", "") or str(sender or "")


def _companies_by_message_id(ids: list[str | None]) -> dict[str, str]:
    """The company each e-mail went out for: the delivery's channel reference is its
    Message-ID."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    with services().db.session() as db:
        rows = db.execute(select(Delivery.channel_ref, Company.name).join(
            Company, Company.id == Delivery.company_id).where(
            Delivery.channel_ref.in_(wanted))).all()
    return {ref: name for ref, name in rows}


def _debtor_pages() -> list[dict]:
    """Every recent message with the debtor's page behind it (letters included), newest first."""
    settings = services().settings
    with services().db.session() as db:
        rows = db.execute(select(DebtorLink, Delivery).join(Delivery, Delivery.id
                                                             == DebtorLink.delivery_id)
                          .order_by(DebtorLink.created_at.desc()).limit(50)).all()
        return [{"url": url_of(link, settings.public_url, settings.secret_key),
                 "channel": delivery.channel, "step": delivery.step_name,
                 "state": delivery.state, "debtor": delivery.debtor.name,
                 "due_on": delivery.due_on} for link, delivery in rows]
