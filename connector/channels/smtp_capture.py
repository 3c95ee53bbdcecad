"""A real SMTP server on loopback that keeps what it receives, for the tests and the demo.

The e-mail channel talks to it exactly as it talks to a production relay, so the demo page can
show the mail as the debtor would get it. Faults can be injected (a refused recipient, a
connection dropped after DATA) to exercise the channel's rejected/uncertain outcomes.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from connector.channels.smtp_receiver import SmtpReceiver

# AUTH without TLS is what this loopback-only test server offers on purpose.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS",
                        module=r"aiosmtpd\.smtp")


@dataclass(frozen=True)
class Envelope:
    """What the SMTP client said outside the message itself."""

    mail_from: str
    rcpt_tos: tuple[str, ...]


class _Handler:
    def __init__(self, owner: CaptureSmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.owner._refused:
            return "550 5.1.1 Recipient address rejected"
        with self.owner._lock:
            defer = self.owner._deferrals > 0
            if defer:
                self.owner._deferrals -= 1
        if defer:
            return "451 4.3.0 Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.owner
        raw = envelope.original_content or envelope.content
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        with owner._lock:
            owner.messages.append(parsed)  # type: ignore[arg-type]
            owner.envelopes.append(Envelope(envelope.mail_from, tuple(envelope.rcpt_tos)))
            drop = owner._drops > 0
            if drop:
                owner._drops -= 1
        if drop:
            # The message was kept, but the client never hears so: the "did it go out?" case.
            server.transport.close()
            return "421 4.3.0 Connection dropped"
        return "250 2.0.0 OK: queued"


class CaptureSmtpServer:
    """SMTP on loopback (aiosmtpd); ``messages`` holds every accepted message, parsed.

    ``credentials`` turns on AUTH (PLAIN/LOGIN, allowed without TLS on loopback only).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._refused: set[str] = set()
        self._drops = 0
        self._deferrals = 0
        self._credentials = credentials
        kwargs: dict[str, Any] = {}
        if credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=False)
        self._controller = SmtpReceiver(_Handler(self), hostname=host, port=port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        )
        return AuthResult(success=ok, handled=False)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """The SMTP URL the e-mail channel takes (with the credentials, if any)."""
        if self._credentials:
            user, password = self._credentials
            return f"smtp://{user}:{password}@{self.host}:{self.port}"
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> CaptureSmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    def refuse_recipient(self, address: str) -> None:
        """Answer RCPT TO for ``address`` with 550 (nothing is accepted)."""
        with self._lock:
            self._refused.add(address.lower())

    def defer_recipients(self, times: int = 1) -> None:
        """Answer the next ``times`` RCPT TO with 451: a server failing mid-way, nothing kept."""
        with self._lock:
            self._deferrals += times

    def drop_after_data(self, times: int = 1) -> None:
        """Keep the next message but close the connection before replying to its data."""
        with self._lock:
            self._drops += times

    def __enter__(self) -> CaptureSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
