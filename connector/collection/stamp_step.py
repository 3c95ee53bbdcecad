"""The stamp step's two ledger-backed variants, kept out of the engine's main line.

1. *Stamp on the ledger's own invoice.* Right after the just-in-time re-read, the engine asks
   the ledger for each invoice's PDF (:func:`fetch_invoice_pdfs`); the PDFs ride along in the
   :class:`OutgoingMessage` and the :class:`StampChannel` stamps and attaches them. A platform
   without PDFs (capability ``invoice_pdf``) gives none and our own reminder page goes; a
   failure to fetch is recorded as an event and our own page goes too. It never fails or
   repeats the step.
2. *The ledger's own reminder* (``CollectionSettings.stamp_via_ledger``, capability
   ``send_own_reminder``): the stamp text goes out through the ledger's
   :class:`~providers.base.OwnReminderLedger` (:class:`LedgerReminderChannel`). That is a
   write to the ledger that reaches the debtor, so it is never retried blindly: a timeout or
   5xx after the request left is :class:`ChannelUncertain` (ambiguous), a 4xx is
   :class:`ChannelRejected`; a rate limit, a dead grant or a failure before the request left
   is a temporary refusal (nothing went out: tried again), as the table in
   :mod:`connector.ledger_errors` says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from connector import events, ledger_errors
from connector.channels.base import (
    ChannelRejected,
    ChannelUncertain,
    InvoicePdf,
    OutgoingMessage,
)
from connector.channels.email import valid_address
from connector.collection.cases import settings_for
from connector.models import Delivery
from providers.base import Capabilities, LedgerError, OwnReminderLedger, Transient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StampPlan:
    via_ledger: bool = False  # send through the ledger's own reminder
    want_pdfs: bool = False  # fetch the ledger's invoice PDFs to stamp


def plan_stamp(session: Session, delivery: Delivery, ledger: Any,
               capabilities: Capabilities) -> StampPlan:
    """How this delivery's stamp step goes out (nothing special for other steps);
    ``capabilities``: those of the company's ledger."""
    if delivery.channel != "stamp" or not valid_address(delivery.debtor.email):
        return StampPlan()  # not a stamp e-mail (no address: it goes by post, see _compose)
    if (settings_for(session, delivery.company_id).stamp_via_ledger
            and capabilities.send_own_reminder and isinstance(ledger, OwnReminderLedger)):
        return StampPlan(via_ledger=True)
    return StampPlan(want_pdfs=capabilities.invoice_pdf)


def fetch_invoice_pdfs(
    ledger: Any, external: dict[str, str]
) -> tuple[dict[str, bytes], str | None]:
    """Case id → the ledger's PDF; ({}, None) where the platform has none; ({}, why) on error.

    All or nothing: one stamped document per invoice, or our own page listing them all.
    """
    pdfs: dict[str, bytes] = {}
    try:
        for case_id, external_id in external.items():
            pdf = ledger.invoice_pdf(external_id)
            if pdf is None:
                return {}, None
            pdfs[case_id] = pdf
    except LedgerError as exc:
        log.warning("invoice PDF not fetched (%s); own reminder page", type(exc).__name__)
        return {}, f"factuur-PDF niet opgehaald ({exc})"[:200]
    except Exception as exc:  # never fail the step over the PDF
        log.warning("invoice PDF not fetched (%s); own reminder page", type(exc).__name__)
        return {}, f"factuur-PDF niet opgehaald ({type(exc).__name__})"
    return pdfs, None


def with_invoice_pdfs(session: Session, delivery: Delivery, message: OutgoingMessage,
                      pdfs: dict[str, bytes], problem: str | None) -> OutgoingMessage:
    """Put the PDFs into a stamp e-mail, or record why our own page goes instead."""
    if message.channel != "stamp":
        return message
    if problem:
        own_page(session, delivery, problem)
        return message
    if not pdfs:
        return message
    items = tuple(InvoicePdf(link.case.invoice.number or link.case.invoice.external_id,
                             pdfs[link.case_id]) for link in delivery.cases)
    return replace(message, invoice_pdfs=items)


def own_page(session: Session, delivery: Delivery, problem: str) -> None:
    events.record(session, "step.stamp_own_page",
                  f"Stap '{delivery.step_name}': {problem}; onze eigen herinnering met stempel "
                  "verstuurd", company_id=delivery.company_id, subject_type="delivery",
                  subject_id=delivery.id)


def channel_problem(channel: Any, delivery_id: str) -> str | None:
    """What a channel noted about a send that still went out (the stamp's fallback page)."""
    take = getattr(channel, "take_problem", None)
    return take(delivery_id) if take else None


class LedgerReminderChannel:
    """The stamp step through the ledger's own reminder (:class:`OwnReminderLedger`).

    Ledger errors become channel outcomes as :mod:`connector.ledger_errors` says: a lost
    answer may have reached the debtor (uncertain, never repeated); a rejected request is
    final; anything that waits (the platform's limit, a passing failure before the request
    left, a dead grant) is a temporary refusal, so the engine tries again later. A dead grant
    is also handed to ``on_dead_grant`` (mark it, tell the creditor).
    """

    key = "stamp"

    def __init__(self, ledger: OwnReminderLedger, invoice_ids: list[str], *,
                 on_dead_grant: Callable[[LedgerError], object] | None = None) -> None:
        self.ledger = ledger
        self.invoice_ids = invoice_ids
        self.on_dead_grant = on_dead_grant

    def send(self, message: OutgoingMessage) -> str:
        try:
            return self.ledger.send_reminder(self.invoice_ids, message.body)
        except LedgerError as exc:
            raise self._outcome(exc) from None

    def _outcome(self, exc: LedgerError) -> ChannelRejected | ChannelUncertain:
        if isinstance(exc, Transient) and exc.ambiguous:
            return ChannelUncertain(f"herinnering via het boekhoudpakket mogelijk verstuurd "
                                    f"({exc})")
        reaction = ledger_errors.reaction_for(exc)
        if reaction.reconnect and self.on_dead_grant is not None:
            self.on_dead_grant(exc)
        if reaction.gives_up:
            return ChannelRejected(f"herinnering via het boekhoudpakket geweigerd ({exc})")
        return ChannelRejected(f"boekhoudpakket niet bereikbaar ({exc})", temporary=True)


__all__ = ["LedgerReminderChannel", "StampPlan", "channel_problem", "fetch_invoice_pdfs",
           "own_page", "plan_stamp", "with_invoice_pdfs"]
