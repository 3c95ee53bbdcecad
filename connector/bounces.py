"""Bounces coming in: an SMTP listener for the worker and ``connector bounces import``.

The partner's MX forwards mail for the bounce address (``BOUNCE_ADDRESS``, with its VERP
``+<delivery id>`` tags) to the listener at ``BOUNCE_SMTP_LISTEN``. Each message is read as a
DSN (:mod:`connector.channels.dsn`) and applied (:mod:`connector.collection.bounces`) before
the listener answers 250; anything that is no DSN is logged without addresses and accepted (a
bounce that we cannot read must not come back as a bounce of a bounce). Only when applying
fails on our side (the database is away) does it answer 451, so the MX delivers it again.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from connector.channels.dsn import NotABounce, parse_dsn
from connector.channels.smtp_receiver import SmtpReceiver
from connector.collection.bounces import handle_bounce

if TYPE_CHECKING:
    from connector.services import Services

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def process_bounce(services: Services, raw: bytes, envelope_recipients: Sequence[str] = ()
                   ) -> str:
    """Read and apply one message; returns the outcome (``ignored`` for anything not a DSN)."""
    try:
        report = parse_dsn(raw, envelope_recipients, services.settings.bounce_address)
    except NotABounce as exc:
        log.info("incoming message is no usable bounce (%s): ignored", exc)
        return "ignored"
    if not report.delivery_ids and not report.message_ids:
        log.info("bounce (status %s) names no delivery: ignored", report.status)
        return "ignored"
    return handle_bounce(services.db, report)


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:2525`` for IPv6) → (host, port)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError("BOUNCE_SMTP_LISTEN must be host:port, e.g. 127.0.0.1:2525")
    return host.strip("[]"), int(port)


class _Handler:
    def __init__(self, listener: BounceListener) -> None:
        self.listener = listener

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        rcpts = tuple(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(None, process_bounce,
                                                 self.listener.services, raw, rcpts)
        except Exception as exc:  # our trouble (database away): let the MX try again later
            log.error("bounce could not be applied (%s); answering 451", type(exc).__name__)
            return "451 4.3.0 Temporary problem, try again later"
        self.listener.outcomes.append(outcome)
        return "250 2.0.0 OK"


@dataclass
class BounceListener:
    """An aiosmtpd server in a background thread; ``outcomes``: what recent messages did."""

    services: Services
    host: str = "127.0.0.1"
    port: int = 0
    outcomes: deque[str] = field(default_factory=lambda: deque(maxlen=1000))
    _controller: SmtpReceiver | None = None

    def start(self) -> BounceListener:
        self._controller = SmtpReceiver(_Handler(self), hostname=self.host, port=self.port,
                                        data_size_limit=MAX_MESSAGE_BYTES)
        self._controller.start()
        self.port = int(self._controller.port)
        log.info("bounce listener on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def start_listener(services: Services) -> BounceListener | None:
    """The worker's listener, when ``BOUNCE_SMTP_LISTEN`` is set; a failure is logged only.

    Only the worker holding the ``bounce-listener`` job lease calls this (see
    connector.worker), so one listener runs however many workers there are, and another
    worker starts it when the holder stops."""
    value = services.settings.bounce_smtp_listen
    if not value:
        return None
    try:
        host, port = parse_listen(value)
        return BounceListener(services, host, port).start()
    except (OSError, ValueError, RuntimeError) as exc:
        log.error("bounce listener not started: %s", type(exc).__name__)
        return None


def import_path(services: Services, path: Path) -> dict[str, int]:
    """Apply one ``.eml`` file or every message in a Maildir; returns outcome counts."""
    counts: dict[str, int] = {}
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        box = mailbox.Maildir(str(path), factory=None, create=False)
        raws = (box.get_bytes(key) for key in box.iterkeys())
    elif path.is_dir():  # a plain folder of saved messages
        raws = (p.read_bytes() for p in sorted(path.glob("*.eml")))
    else:
        raws = iter([path.read_bytes()])
    for raw in raws:
        outcome = process_bounce(services, raw)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@click.group("bounces")
def bounces_cli() -> None:
    """Bounced e-mail: import DSNs by hand."""


@bounces_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def bounces_import(path: Path) -> None:
    """Apply the bounces in PATH (an .eml file or a Maildir)."""
    from connector.config import load_settings
    from connector.services import Services

    services = Services.from_settings(load_settings())
    counts = import_path(services, path)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing"
    click.echo(f"bounces: {summary}")


__all__ = ["BounceListener", "bounces_cli", "import_path", "parse_listen", "process_bounce",
           "start_listener"]
