"""Moneybird webhook authenticity and parsing, as a pure function over the raw bytes.

Signature: ``Moneybird-Signature: t=<unix>,v1=<hex>[,v1=…]`` with HMAC-SHA256 over
``f"{t}." + raw_body`` keyed with the webhook secret; several v1 values appear while a secret
rotates; deliveries older or newer than five minutes are refused (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from providers.base import WebhookEvent, WebhookRejected

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "Moneybird-Signature"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def sign(raw_body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    raw_body: bytes, header: str | None, secret: str, *, now: float | None = None
) -> None:
    if not header:
        raise WebhookRejected("signature header missing")
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v.strip() for k, v in parts if k.strip() == "t"]
    signatures = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise WebhookRejected("signature header malformed")
    now = time.time() if now is None else now
    if abs(now - int(stamps[0])) > TOLERANCE_SECONDS:
        raise WebhookRejected("signature timestamp outside the 5-minute tolerance")
    expected = hmac.new(
        secret.encode(), f"{stamps[0]}.".encode() + raw_body, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise WebhookRejected("signature does not match")


def parse(raw_body: bytes, headers: Mapping[str, str], secret: str) -> list[WebhookEvent]:
    """Verify and parse one delivery.

    An unsigned POST without an event in it is how a URL is checked when a webhook is created:
    it yields no events (nothing is processed) rather than an error.
    """
    signature = _header(headers, SIGNATURE_HEADER)
    try:
        payload = json.loads(raw_body or b"{}")
    except ValueError:
        raise WebhookRejected("body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookRejected("body is not a JSON object")
    if signature is None and not payload.get("action"):
        return []
    verify_signature(raw_body, signature, secret)
    if not payload.get("action") or not payload.get("administration_id"):
        raise WebhookRejected("payload lacks action or administration_id")
    entity_type = payload.get("entity_type")
    entity_id = payload.get("entity_id")
    return [
        WebhookEvent(
            tenant_id=str(payload["administration_id"]),
            action=str(payload["action"]),
            entity_type=str(entity_type) if entity_type else None,
            entity_id=str(entity_id) if entity_id else None,
            delivery_id=_header(headers, "Idempotency-Key"),
        )
    ]
