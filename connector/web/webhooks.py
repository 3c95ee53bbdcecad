"""Incoming webhooks: verified on the raw body, deduplicated, turned into a prompt sync.

The payload is not trusted as data: a genuine event only asks for a sync of that company,
which re-reads the ledger (the source of truth, also against stale or out-of-order pushes).
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connector import events
from connector.models import Connection, Delivery, WebhookReceipt
from connector.services import Services
from connector.sync import request_sync
from connector.web.access import services
from providers.base import AppWebhooks, WebhookRejected
from providers.registry import UnknownProvider

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
SID_WAIT_SECONDS = 3.0
log = logging.getLogger(__name__)


@bp.post("/twilio/status")
def twilio_status() -> tuple[str, int]:
    """Twilio's delivery reports for SMS and WhatsApp, signed with X-Twilio-Signature."""
    from connector.channels.sms import verify_twilio_signature

    svc = services()
    token = svc.settings.twilio_auth_token
    url = svc.settings.public_url + request.full_path.rstrip("?")
    if not token or not verify_twilio_signature(
            url, request.form, request.headers.get("X-Twilio-Signature"), token):
        return "invalid signature", 401
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    # Twilio can report before the worker has committed the message's SID: wait a moment.
    deadline = time.monotonic() + SID_WAIT_SECONDS
    while True:
        with svc.db.session() as db:
            found = db.scalar(select(Delivery.id).where(Delivery.channel_ref == sid))
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not found:
        return "unknown message", 200  # not ours (or long gone): nothing to do
    with svc.db.session() as db:
        delivery = db.get(Delivery, found)
        delivery.content = {**(delivery.content or {}), "delivery_status": status[:20]}
        if status in ("failed", "undelivered"):
            events.record(db, "step.undelivered",
                          f"Stap '{delivery.step_name}' kwam niet aan ({status})",
                          company_id=delivery.company_id, subject_type="delivery",
                          subject_id=delivery.id)
    return "ok", 200


@bp.post("/<provider_key>")
def receive_for_app(provider_key: str) -> tuple[str, int]:
    """One URL per app for platforms that send every tenant's events there (app_webhooks).

    Answers carry no body: such a platform checks the URL with signed and badly signed
    deliveries ("intent to receive") and wants exactly 200 or 401, nothing else.
    """
    svc = services()
    raw = request.get_data(cache=False)
    try:
        provider = svc.providers.get(provider_key)
    except UnknownProvider:
        return "", 404
    if not provider.info.capabilities.app_webhooks or not isinstance(provider, AppWebhooks):
        return "", 404
    try:
        found = provider.verify_app_webhook(raw, request.headers)
    except WebhookRejected as exc:
        log.warning("app webhook refused for %s: %s", provider_key, exc)
        return "", 401
    for event in found:
        with svc.db.session() as db:
            connections = list(db.execute(select(Connection.id, Connection.company_id).where(
                Connection.provider == provider_key, Connection.tenant_id == event.tenant_id,
                Connection.disconnected_at.is_(None))))
        for connection_id, company_id in connections:
            ids = [i for i in (event.delivery_id,
                               f"replay:{event.replay_id}" if event.replay_id else None) if i]
            if all(_first_delivery(svc, provider_key, i, connection_id, event.action)
                   for i in ids):
                with svc.db.session() as db:
                    request_sync(db, company_id)
    return "", 200


@bp.route("/<provider_key>/<connection_id>", methods=["GET", "HEAD"])
def alive(provider_key: str, connection_id: str) -> tuple[str, int]:
    """Some platforms check a webhook URL with a GET before they use it."""
    return "ok", 200


@bp.post("/<provider_key>/<connection_id>")
def receive(provider_key: str, connection_id: str) -> tuple[str, int]:
    svc = services()
    raw = request.get_data(cache=False)
    with svc.db.session() as db:
        connection = db.get(Connection, connection_id)
        if connection is None or connection.provider != provider_key:
            return "unknown webhook", 404
        try:
            provider = svc.providers.get(provider_key)
        except UnknownProvider:
            return "unknown webhook", 404
        secret = (svc.box.decrypt(connection.webhook_secret_enc)
                  if connection.webhook_secret_enc else None)
        tenant_id, company_id = connection.tenant_id, connection.company_id
        disconnected = connection.disconnected_at is not None
    try:
        # Without a stored secret only the unsigned registration check can pass.
        found = provider.verify_webhook(raw, request.headers, secret or "")
        if found and secret is None:
            raise WebhookRejected("no secret stored for this webhook")
    except WebhookRejected as exc:
        log.warning("webhook refused for connection %s: %s", connection_id, exc)
        return "invalid signature", 401
    if any(event.tenant_id != tenant_id for event in found):
        log.warning("webhook for another tenant refused on connection %s", connection_id)
        return "wrong tenant", 401
    if not found or disconnected:
        return "ok", 200
    for event in found:
        # Either the platform's key or the signed delivery itself seen before: a duplicate.
        ids = [i for i in (event.delivery_id,
                           f"replay:{event.replay_id}" if event.replay_id else None) if i]
        if not all(_first_delivery(svc, provider_key, i, connection_id, event.action)
                   for i in ids):  # stops at the first one seen: a duplicate stores nothing
            return "duplicate", 200
    with svc.db.session() as db:
        request_sync(db, company_id)
    return "ok", 200


def _first_delivery(
    svc: Services, provider_key: str, delivery_id: str, connection_id: str, action: str
) -> bool:
    try:
        with svc.db.session() as db:
            db.add(WebhookReceipt(provider=provider_key, delivery_id=delivery_id[:100],
                                  connection_id=connection_id, action=action[:100]))
    except IntegrityError:
        return False
    return True
