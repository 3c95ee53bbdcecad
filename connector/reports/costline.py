"""The steps of a policy on one line, with their day and fee: what the start page shows.

Pre-incasso is free for the debtor; the creditor pays the partner's fee per step that has one
(the Profitletter). The day of each step counts from the case's start, as the engine plans it
when nobody pays in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from connector.collection.policy import Policy


@dataclass(frozen=True)
class TimelineStep:
    day: int  # days after the case started
    name: str
    channel: str
    fee: Decimal


def timeline(policy: Policy, variant: str = "consumer") -> list[TimelineStep]:
    """Each message step with its day from the start (the hand-over is not a message)."""
    steps, previous = [], 0
    for step in policy.steps(variant):
        if step.channel == "handover":
            break
        day = step.delay_days if step.after == "start" else previous + step.delay_days
        day = max(day, previous)
        steps.append(TimelineStep(day, step.name, step.channel, step.fee))
        previous = day
    return steps
