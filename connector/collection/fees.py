"""Fees for billable steps and the monthly statement per company (amounts excluding VAT).

The creditor pays the partner per step (default: the Profitletter); the debtor never pays
anything in pre-incasso.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

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
