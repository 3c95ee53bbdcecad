"""Exact Online webhook authenticity: ``HashCode`` over the raw ``Content`` part.

HashCode = upper-case hex HMAC-SHA256 of the bytes between ``{"Content":`` and
``,"HashCode":``, keyed with the app's webhook secret (not the client secret). Exact validates a
new subscription with an empty POST, which carries no event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from providers.base import WebhookEvent, WebhookRejected

_ENVELOPE = re.compile(rb'^\s*\{"Content":(.*),"HashCode":"([0-9A-Fa-f]{64})"\s*\}\s*$', re.S)


def sign(content: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest().upper()


def parse(raw_body: bytes, headers: Mapping[str, str], secret: str) -> list[WebhookEvent]:
    if not raw_body.strip():
        return []  # the validation POST when a subscription is created
    match = _ENVELOPE.match(raw_body)
    if not match:
        raise WebhookRejected("body is not an Exact Online webhook envelope")
    content, hashcode = match.group(1), match.group(2).decode().upper()
    if not secret or not hmac.compare_digest(sign(content, secret).encode(), hashcode.encode()):
        raise WebhookRejected("HashCode does not match")
    try:
        data = json.loads(content)
    except ValueError:
        raise WebhookRejected("Content is not JSON") from None
    if not isinstance(data, dict) or "Division" not in data or "Topic" not in data:
        raise WebhookRejected("Content lacks Division or Topic")
    return [WebhookEvent(
        tenant_id=str(data["Division"]),
        action=f"{data['Topic']}/{data.get('Action', '')}",
        entity_type=str(data["Topic"]),
        entity_id=str(data["Key"]) if data.get("Key") else None,
        # Exact sends no delivery id; the hash identifies a delivery of this exact content.
        delivery_id=hashcode,
    )]
