"""The letter channel: the Profitletter to the print queue, and a copy by e-mail.

For consumers the letter is the 14-day letter (legal-nl §7.1), so post is the primary route and
e-mail a copy (§1.4): :class:`LetterChannel` renders the PDF
(:mod:`connector.channels.documents`), queues it for printing
(:mod:`connector.channels.print_queue`) and, when it can, mails it along through the e-mail
channel (:mod:`connector.channels.email`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

from connector.channels.base import ChannelRejected, ChannelUncertain, OutgoingMessage
from connector.channels.documents import PartnerIdentity, page_count, render_letter_pdf
from connector.channels.email import Attachment, EmailChannel
from connector.channels.print_queue import SAFE_ID, LetterStore, QueuedLetter
from connector.clock import AMSTERDAM

log = logging.getLogger(__name__)


class LetterChannel:
    """Renders the letter, queues it for printing and, with an e-mail address, mails a copy."""

    key = "letter"

    def __init__(
        self,
        store: LetterStore,
        partner: PartnerIdentity | None = None,
        email: EmailChannel | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.partner = partner or PartnerIdentity()
        self.email = email
        self._now = now or (lambda: datetime.now(UTC))

    def send(self, message: OutgoingMessage) -> str:
        """Queue the letter for the post (primary) and e-mail it (copy); ``letter:<id>``."""
        reference = f"letter:{message.delivery_id}"
        if not SAFE_ID.match(message.delivery_id):
            raise ChannelRejected("ongeldig delivery-id")
        if self.store.get(message.delivery_id) is not None:
            return reference  # already queued: never print or mail the same letter twice
        now = self._now()
        today = now.astimezone(AMSTERDAM).date()
        try:
            pdf = render_letter_pdf(message, self.partner, letter_date=today)
        except ChannelRejected:
            raise
        except Exception as exc:
            raise ChannelRejected(f"brief kon niet worden gemaakt ({type(exc).__name__})") from None
        post_by = (date.fromisoformat(message.extra["post_by"]) if message.extra.get("post_by")
                   else today)
        entry = QueuedLetter(message.delivery_id, now, today, post_by, page_count(pdf))
        try:
            if not self.store.add(entry, pdf):
                return reference
        except OSError as exc:
            raise ChannelRejected(f"brief kon niet worden opgeslagen ({type(exc).__name__})"
                                  ) from None
        if message.email and self.email is not None:
            self._email_copy(message, entry, pdf)
        log.info("letter for delivery %s queued for printing", message.delivery_id)
        return reference

    def _email_copy(self, message: OutgoingMessage, entry: QueuedLetter, pdf: bytes) -> None:
        # The post is the legal route (legal-nl §1.4); the e-mail is a copy. Its failure must
        # not fail the delivery: the letter is already in the print queue and would be sent
        # twice if the engine tried again. The outcome is kept with the queue entry instead.
        assert self.email is not None
        name = "brief.pdf" if message.extra.get("lang", "nl") == "nl" else "letter.pdf"
        try:
            ref = self.email.send_with(message, [Attachment(name, pdf)])
            self.store.update([replace(entry, email_ref=ref)])
        except (ChannelRejected, ChannelUncertain) as exc:
            problem = ("rejected: " if isinstance(exc, ChannelRejected) else "uncertain: ") + str(
                exc)
            log.warning("e-mail copy of letter %s: %s", message.delivery_id, problem)
            self.store.update([replace(entry, email_problem=problem[:200])])


__all__ = ["LetterChannel"]
