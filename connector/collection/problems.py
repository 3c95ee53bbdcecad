"""Steps that need a person: failed ones and ones that may or may not have gone out.

Neither is ever retried on its own (a failed step would fail again; an ambiguous one may
already be with the debtor). An operator looks and decides: confirm it went out, send it
again, or skip the step so the case moves on. Every decision is an event with its actor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.collection.engine import finish_delivery, local_today, skip_delivery
from connector.models import Delivery, DeliveryState, utcnow
from connector.services import Services

PROBLEM_STATES = (DeliveryState.FAILED.value, DeliveryState.AMBIGUOUS.value)


class ProblemError(ValueError):
    """The step is no longer in a state this decision applies to (someone else decided)."""


def problem_deliveries(session: Session, company_ids: list[str] | None = None
                       ) -> list[Delivery]:
    query = select(Delivery).where(Delivery.state.in_(PROBLEM_STATES))
    if company_ids is not None:
        query = query.where(Delivery.company_id.in_(company_ids))
    return list(session.scalars(query.order_by(Delivery.due_on, Delivery.created_at)))


def _claim(session: Session, delivery_id: str, states: tuple[str, ...]) -> Delivery:
    delivery = session.scalars(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update()).one_or_none()
    if delivery is None or delivery.state not in states:
        raise ProblemError("deze stap is al afgehandeld")
    return delivery


def confirm_sent(services: Services, delivery_id: str, actor: str,
                 now: datetime | None = None) -> None:
    """The operator checked: the message did reach the debtor. The step counts as done."""
    with services.db.session() as session:
        delivery = _claim(session, delivery_id, (DeliveryState.AMBIGUOUS.value,))
        delivery.state = DeliveryState.SENDING.value  # taken: a second click finds nothing
        events.record(session, "step.confirmed", f"Stap '{delivery.step_name}' bevestigd als "
                      "verstuurd", company_id=delivery.company_id, actor=actor,
                      subject_type="delivery", subject_id=delivery.id)
    finish_delivery(services, delivery_id, DeliveryState.SENT, f"bevestigd door {actor}",
                    local_today(now or utcnow()))


def send_again(services: Services, delivery_id: str, actor: str) -> None:
    """Plan the step again (approved by the operator): for a failed step once the cause is
    fixed, or an ambiguous one the operator found did not arrive."""
    with services.db.session() as session:
        delivery = _claim(session, delivery_id, PROBLEM_STATES)
        was = delivery.state
        delivery.state, delivery.sending_at, delivery.skip_reason = (
            DeliveryState.PLANNED.value, None, None)
        delivery.approved_by = actor
        delivery.content = {k: v for k, v in (delivery.content or {}).items()
                            if k != "temporary_failures"}
        reason = "niet aangekomen" if was == DeliveryState.AMBIGUOUS.value else "mislukt"
        events.record(session, "step.resend", f"Stap '{delivery.step_name}' ({reason}) wordt "
                      "opnieuw verstuurd", company_id=delivery.company_id, actor=actor,
                      subject_type="delivery", subject_id=delivery.id)


def skip(services: Services, delivery_id: str, actor: str, now: datetime | None = None) -> None:
    """Leave this step out; the case goes on with the next one."""
    with services.db.session() as session:
        delivery = _claim(session, delivery_id, PROBLEM_STATES)
        skip_delivery(session, delivery, "overgeslagen door een operator",
                      local_today(now or utcnow()), actor=actor)
