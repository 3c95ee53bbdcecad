"""Xero webhook authenticity: ``x-xero-signature`` over the raw body.

signature = base64(HMAC-SHA256(key = the app's webhook key as UTF-8, msg = the raw body bytes)).
The body is never re-serialised before checking: Xero's intent-to-receive payload has spaces
(``"firstEventSequence": 0``) that a round trip through a JSON parser would lose (xero-node
#563). Intent to receive is a series of ``events: []`` deliveries, some signed wrongly: a wrong
signature must be refused (401), a right one accepted (200) with an empty body.

Xero has one webhook URL per app for every organisation (the connector's ``/webhooks/xero``,
:meth:`XeroProvider.verify_app_webhook`) and sends no delivery id: the signed bytes name a
delivery (a retry repeats them), so a digest of them is each event's ``replay_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

from providers.base import WebhookEvent, WebhookRejected

SIGNATURE_HEADER = "x-xero-signature"


def sign(raw_body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), raw_body, hashlib.sha256).digest()).decode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict in tools and tests; werkzeug headers ignore case anyway
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def parse(raw_body: bytes, headers: Mapping[str, str], key: str) -> list[WebhookEvent]:
    """The events of one genuine delivery (none for intent to receive); else WebhookRejected."""
    signature = (_header(headers, SIGNATURE_HEADER) or "").strip()
    if not key or not signature:
        raise WebhookRejected("x-xero-signature missing (or no webhook key configured)")
    if not hmac.compare_digest(sign(raw_body, key).encode(), signature.encode()):
        raise WebhookRejected("x-xero-signature does not match")
    try:
        payload = json.loads(raw_body)
    except ValueError:
        raise WebhookRejected("body is not JSON") from None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise WebhookRejected("body has no events list")
    delivery = hashlib.sha256(raw_body).hexdigest()[:40]
    found = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not event.get("tenantId"):
            raise WebhookRejected("event without tenantId")
        category = str(event.get("eventCategory") or "")
        found.append(WebhookEvent(
            tenant_id=str(event["tenantId"]),
            action=f"{category}/{event.get('eventType') or ''}",
            entity_type=category or None,
            entity_id=str(event["resourceId"]) if event.get("resourceId") else None,
            # Xero sends no delivery id; the signed bytes name the delivery (a retry repeats
            # them), the index the event within it: a replayed delivery is recognised.
            delivery_id=None,
            replay_id=f"xero:{delivery}:{index}",
        ))
    return found
