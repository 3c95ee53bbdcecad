"""Checks on the values the rules receive: money is a finite ``Decimal``, dates are dates,
moments are time-zone aware. One place, so every rule rejects bad input with the same words."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from connector.clock import AMSTERDAM
from connector.collection.legal.errors import (
    InvalidAmountError,
    LegalRuleError,
    NaiveDatetimeError,
)

__all__ = ["AMSTERDAM", "CENT", "aware", "cents", "money", "plain_date"]

CENT = Decimal("0.01")


def money(value: object, name: str, *, positive: bool = True) -> Decimal:
    """Money is ``Decimal`` only (never float), finite and, where required, above zero."""
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise InvalidAmountError(
            f"{name} must be a decimal.Decimal, got {type(value).__name__} ({value!r})"
        )
    if not value.is_finite():
        raise InvalidAmountError(f"{name} must be a finite amount, got {value}")
    if positive and value <= 0:
        raise InvalidAmountError(f"{name} must be more than 0, got {value}")
    return value


def cents(value: Decimal) -> Decimal:
    """Rounded once to whole cents, half up (the way the amounts are stated in letters)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def plain_date(value: object, name: str) -> date:
    """A calendar day; a ``datetime`` is refused because its day depends on the time zone."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise LegalRuleError(f"{name} must be a datetime.date (not a datetime), got {value!r}")
    return value


def aware(value: object, name: str) -> datetime:
    """A moment with a time zone: contact windows are Amsterdam wall-clock times."""
    if not isinstance(value, datetime):
        raise LegalRuleError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name} must be timezone-aware (e.g. tzinfo=ZoneInfo('Europe/Amsterdam')), "
            f"got naive {value.isoformat()}"
        )
    return value
