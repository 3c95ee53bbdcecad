"""Moneybird webhook authenticity and parsing, as a pure function over the raw bytes.

Signature: ``Moneybird-Signature: t=<unix>,v1=<hex>[,v1=…]`` with HMAC-SHA256 over
``f"{t}." + raw_body`` keyed with the webhook secret; several v1 values appear while a secret
rotates; deliveries older or newer than five minutes are refused (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping

from providers.base import WebhookEvent, WebhookRejected

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "Moneybird-Signature"
MAX_BODY_DEPTH = 32  # Moneybird's events nest a few levels; deeper is not a real delivery
_STAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "²".isdigit() is True


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
    if len(stamps) != 1 or not _STAMP.fullmatch(stamps[0]) or not signatures:
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
    if _too_deep(raw_body):
        raise WebhookRejected("body nests too deeply")
    try:
        payload = json.loads(raw_body or b"{}")
    except (ValueError, RecursionError):
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
            replay_id=_signed_digest(raw_body, signature),
        )
    ]


def _signed_digest(raw_body: bytes, signature: str) -> str:
    """The same for a replay of this exact signed delivery, whatever Idempotency-Key it carries
    (the signature covers the timestamp and the body, not the key)."""
    stamp = next(v.strip() for k, v in (p.split("=", 1) for p in signature.split(",") if "=" in p)
                 if k.strip() == "t")
    return hashlib.sha256(f"{stamp}.".encode() + raw_body).hexdigest()


def _too_deep(raw_body: bytes) -> bool:
    """A cheap bracket count before parsing: deep nesting would exhaust the parser's stack."""
    depth = 0
    in_string = escaped = False
    for byte in raw_body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_BODY_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False
