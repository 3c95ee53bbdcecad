"""Fees for billable steps and the monthly statement per company (amounts excluding VAT).

The creditor pays the partner per step (default: the Profitletter); the debtor never pays
anything in pre-incasso.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.collection.policy import DEFAULT_LETTER_FEE, VARIANTS, Policy
from connector.models import UsageLine


@dataclass(frozen=True)
class Statement:
    month: str
    lines: list[UsageLine]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


def statement(session: Session, company_id: str, month: str) -> Statement:
    lines = list(session.scalars(select(UsageLine).where(
        UsageLine.company_id == company_id, UsageLine.month == month)
        .order_by(UsageLine.created_at)))
    return Statement(month=month, lines=lines)


# -- who sets the fees ------------------------------------------------------------------------

# The partner's fee per channel when a company's policy has no step in that channel yet.
DEFAULT_CHANNEL_FEES = {"letter": DEFAULT_LETTER_FEE}


def channel_fee(stored: Policy, channel: str) -> Decimal:
    """The fee the partner charges this company for a step in ``channel``: what its policy
    already charges for that channel, else the partner's default."""
    for variant in VARIANTS:
        for step in stored.steps(variant):
            if step.channel == channel:
                return step.fee
    return DEFAULT_CHANNEL_FEES.get(channel, Decimal("0.00"))


def settle_fees(submitted: Policy, stored: Policy, *, may_set_fees: bool) -> Policy:
    """The fees a saved policy gets: the partner sets them, a creditor never does.

    A creditor's submitted fees are ignored: every step takes its channel's fee. An operator's
    fee stands, except for a step whose channel changed while its fee was left as it was: that
    step takes the new channel's fee (a Profitletter turned into an e-mail is not € 14,95).
    """
    variants = {}
    for variant in VARIANTS:
        before = {step.name: step for step in stored.steps(variant)}
        steps = []
        for step in submitted.steps(variant):
            old = before.get(step.name)
            switched = old is not None and old.channel != step.channel and old.fee == step.fee
            fee = channel_fee(stored, step.channel) if switched or not may_set_fees else step.fee
            steps.append(replace(step, fee=fee))
        variants[variant] = tuple(steps)
    return replace(submitted, **variants)
