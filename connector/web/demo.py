"""Demo only: what would have reached debtors (captured mail and SMS). Operators only."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from connector.debtor_page.links import url_of
from connector.models import DebtorLink, Delivery
from connector.web.access import login_required, operator_id, services

bp = Blueprint("demo", __name__, url_prefix="/demo")


@bp.get("/messages")
@login_required
def messages() -> str:
    mail = current_app.extensions.get("demo_mail")
    sms = current_app.extensions.get("demo_sms")
    if mail is None or not operator_id():
        abort(404)
    shown = []
    for message in reversed(mail.messages[-50:]):
        body = message.get_body(("plain",))
        shown.append({
            "from": message["From"], "to": message["To"], "reply_to": message["Reply-To"],
            "subject": message["Subject"], "id": message["Message-ID"],
            "body": body.get_content() if body else "",
            "attachments": [part.get_filename() for part in message.iter_attachments()],
        })
    texts = list(reversed(sms.messages[-50:])) if sms is not None else []
    return render_template("web/demo_messages.html", mails=shown, texts=texts,
                           pages=_debtor_pages())


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
