"""Approving planned steps: one or many, refused with a reason when they cannot go out.

An approval is a promise to the creditor that the step will go out on its day. A step that
cannot (no IBAN to pay to, the ledger disconnected) is refused here, with the reason in Dutch,
instead of being approved and then failing silently in the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from connector.collection.actions import ActionRefused
from connector.collection.cases import policy_for, settings_for
from connector.collection.engine import approve, step_fee
from connector.models import Company, Delivery, DeliveryState

# Channels whose message asks the debtor to pay to the creditor's IBAN (see engine).
NEEDS_IBAN = frozenset({"letter", "stamp", "email", "whatsapp"})

NOT_PLANNED = "Deze stap is niet meer gepland."
DISCONNECTED = ("De koppeling met het boekhoudpakket is verbroken: er kan niets uitgaan tot u "
                "opnieuw koppelt.")
NO_IBAN = ("Het IBAN van de schuldeiser ontbreekt: vul het in bij Afzender, anders weet de "
           "debiteur niet waar hij kan betalen.")


def why_not(session: Session, delivery: Delivery) -> str | None:
    """Why this planned step cannot be approved now, or None when it can."""
    if delivery.state != DeliveryState.PLANNED.value:
        return NOT_PLANNED
    return blocker(session, delivery)


def blocker(session: Session, delivery: Delivery) -> str | None:
    """What stops this step from going out whatever its state (no connection, no IBAN)."""
    company = session.get(Company, delivery.company_id)
    connection = company.connection if company is not None else None
    if connection is None or connection.status == "disconnected":
        return DISCONNECTED
    if delivery.channel in NEEDS_IBAN and not (
            settings_for(session, delivery.company_id).sender or {}).get("iban"):
        return NO_IBAN
    return None


def approve_step(session: Session, delivery: Delivery, actor: str) -> None:
    """Approve one planned step, or raise :class:`ActionRefused` saying why not."""
    reason = why_not(session, delivery)
    if reason is not None:
        raise ActionRefused(reason)
    approve(session, delivery, actor)


@dataclass
class BulkResult:
    approved: int = 0
    fees: Decimal = Decimal("0.00")
    refused: dict[str, int] = field(default_factory=dict)  # reason -> how many


def cost_of(session: Session, company_id: str, deliveries: Iterable[Delivery]) -> Decimal:
    """What these steps cost the creditor (the partner's fees, excl. VAT), shown before a
    bulk approval."""
    policy = policy_for(session, company_id)
    return sum((step_fee(policy, d) or Decimal("0.00") for d in deliveries), Decimal("0.00"))


def awaiting(session: Session, company_id: str, *, with_debtors: bool = False
             ) -> list[Delivery]:
    """Planned steps of one company that still wait for an approval, in plan order;
    ``with_debtors`` loads each step's debtor along, for a page rendered after the session."""
    query = (select(Delivery).where(Delivery.company_id == company_id,
                                    Delivery.state == DeliveryState.PLANNED.value,
                                    Delivery.approved_by.is_(None))
             .order_by(Delivery.due_on, Delivery.created_at))
    if with_debtors:
        query = query.options(selectinload(Delivery.debtor))
    return list(session.scalars(query))


def approve_many(session: Session, company_id: str, delivery_ids: Iterable[str] | None,
                 actor: str) -> BulkResult:
    """Approve the given planned steps of one company (``None``: all that wait).

    Ids of another company, or of steps no longer planned, are counted as refused, never
    approved: a list in the browser may be stale."""
    waiting = {d.id: d for d in awaiting(session, company_id)}
    policy = policy_for(session, company_id)
    wanted = list(waiting) if delivery_ids is None else list(dict.fromkeys(delivery_ids))
    result = BulkResult()
    for delivery_id in wanted:
        delivery = waiting.get(delivery_id)
        reason = NOT_PLANNED if delivery is None else why_not(session, delivery)
        if reason is not None:
            result.refused[reason] = result.refused.get(reason, 0) + 1
            continue
        approve(session, delivery, actor)
        result.approved += 1
        result.fees += step_fee(policy, delivery) or Decimal("0.00")
    return result
