"""Bounces: VERP envelope senders out, RFC 3464 delivery status notifications in.

Every debtor e-mail leaves with the envelope sender ``bounces+<delivery id>@domain`` (VERP), so
a bounce names its delivery even when the remote server mangles the returned message. A DSN is
read for its verdict only: did delivery fail for good (``Action: failed`` with a 5.x.x status),
is it merely delayed (4.x.x / ``Action: delayed``), or is it not a failure at all. What we keep
is ids (delivery ids, Message-IDs) and the status code, never an e-mail address: bounces are
full of the debtor's address and must not carry it into logs or events.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses

_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
_DELIVERY_ID = re.compile(r"^[0-9a-f]{32}$")
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
# Where a forwarding MX or the DSN itself names the address the bounce was sent to.
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


class BounceKind(enum.StrEnum):
    HARD = "hard"  # the address does not work: failed, 5.x.x
    SOFT = "soft"  # delayed or temporarily failed (4.x.x): the remote side still tries


@dataclass(frozen=True)
class BounceReport:
    """What a DSN says, without addresses: the verdict, its status and how to find the mail."""

    kind: BounceKind
    status: str
    delivery_ids: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()


class NotABounce(ValueError):
    """The message is no delivery status notification we can read (or reports no failure)."""


def verp_address(bounce_address: str, delivery_id: str) -> str:
    """``bounces@partner.example`` + id → ``bounces+<id>@partner.example``."""
    local, _, domain = bounce_address.rpartition("@")
    if not local or not domain:
        raise ValueError("the bounce address is not a valid e-mail address")
    return f"{local}+{delivery_id}@{domain}"


def verp_delivery_id(address: str, bounce_local: str | None = None) -> str | None:
    """The delivery id in a VERP address (``local+<id>@domain``), if it holds one."""
    local = address.strip().strip("<>").rpartition("@")[0]
    base, plus, token = local.partition("+")
    if not plus or (bounce_local and base.lower() != bounce_local.lower()):
        return None
    token = token.lower()
    return token if _DELIVERY_ID.match(token) else None


def _classify(action: str, status: str) -> BounceKind | None:
    action = action.strip().lower()
    match = _STATUS.match(status)
    klass = match.group(1) if match else ""
    if action == "failed" and klass == "5":
        return BounceKind.HARD
    if action == "delayed" or (action == "failed" and klass == "4"):
        return BounceKind.SOFT
    if action == "failed" and not klass:
        return BounceKind.SOFT  # failed without a readable status: do not act on a guess
    return None


def _addresses(values: Iterable[str]) -> list[str]:
    out = []
    for value in values:
        # "rfc822; jan@x" (DSN fields) or ordinary address headers.
        value = value.split(";", 1)[1] if ";" in value and "@" not in value.split(";", 1)[0] \
            else value
        out.extend(addr for _name, addr in getaddresses([value]) if addr)
    return out


def _returned_headers(report: Message) -> Message | None:
    for part in report.get_payload() if report.is_multipart() else []:
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                return payload[0]
        if kind in ("text/rfc822-headers", "message/global-headers"):
            try:
                text = part.get_content()
            except (LookupError, ValueError):
                text = part.get_payload(decode=True) or b""
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            return HeaderParser(policy=policy.default).parsestr(text)
    return None


def parse_dsn(
    raw: bytes, envelope_recipients: Sequence[str] = (), bounce_address: str | None = None
) -> BounceReport:
    """Read a DSN; raises :class:`NotABounce` for anything else (or a DSN without failure).

    ``envelope_recipients`` are the RCPT TO addresses the bounce arrived for (the VERP address
    when it came over SMTP); headers of the DSN and of the returned message are used too.
    """
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # any parser trouble means "not something we can read"
        raise NotABounce("unparseable message") from None
    try:
        return _read(message, envelope_recipients, bounce_address)
    except NotABounce:
        raise
    except Exception as exc:  # malformed headers or parts: never let bad input crash a caller
        raise NotABounce(f"malformed report ({type(exc).__name__})") from None


def _read(message: Message, envelope_recipients: Sequence[str], bounce_address: str | None
          ) -> BounceReport:
    report = next((p for p in message.walk()
                   if p.get_content_type() == "multipart/report"
                   and (p.get_param("report-type") or "").lower() == "delivery-status"), None)
    if report is None:
        raise NotABounce("not a multipart/report delivery-status message")
    status_part = next((p for p in report.get_payload()
                        if p.get_content_type() in ("message/delivery-status",
                                                    "message/global-delivery-status")), None)
    blocks = status_part.get_payload() if status_part is not None else None
    if not isinstance(blocks, list) or len(blocks) < 2:
        raise NotABounce("no per-recipient delivery status")
    verdicts: list[tuple[BounceKind, str]] = []
    original_recipients: list[str] = []
    for block in blocks[1:]:
        kind = _classify(str(block.get("Action", "")), str(block.get("Status", "")))
        if kind is not None:
            match = _STATUS.match(str(block.get("Status", "")))
            verdicts.append((kind, ".".join(match.groups()) if match else ""))
            original_recipients += [str(v) for v in block.get_all("Original-Recipient", [])]
    if not verdicts:
        raise NotABounce("the report names no failed or delayed recipient")
    hard = [v for v in verdicts if v[0] == BounceKind.HARD]
    kind, status = hard[0] if hard else verdicts[0]

    bounce_local = bounce_address.rpartition("@")[0] if bounce_address else None
    candidates = list(envelope_recipients)
    for header in _RECIPIENT_HEADERS:
        candidates += [str(v) for v in message.get_all(header, [])]
    candidates += original_recipients
    returned = _returned_headers(report)
    message_ids: list[str] = []
    if returned is not None:
        candidates += [str(v) for v in returned.get_all("Return-Path", [])]
        message_ids += _MSGID.findall(str(returned.get("Message-ID", "")))
    delivery_ids = [d for d in (verp_delivery_id(a, bounce_local) for a in _addresses(candidates))
                    if d]
    return BounceReport(kind=kind, status=status,
                        delivery_ids=tuple(dict.fromkeys(delivery_ids)),
                        message_ids=tuple(dict.fromkeys(message_ids)))


__all__ = ["BounceKind", "BounceReport", "NotABounce", "parse_dsn", "verp_address",
           "verp_delivery_id"]
