"""Collection costs: the BIK staffel for one letter (BIK art. 2; legal-nl §2) and what a business
debtor may be told under the WIK's trade-agreement rules (art. 6:96 lid 4 BW; legal-nl §1.6).

Nothing here is charged in the pre-incasso phase: the amounts are what a letter announces for
the case that the debtor does not pay in time (legal-nl §7.2, §7.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.collection.legal.errors import InvalidAmountError, LegalRuleError
from connector.collection.legal.inputs import cents, money, plain_date

__all__ = [
    "BIK_BANDS",
    "BIK_MAXIMUM",
    "BIK_MINIMUM",
    "COMMERCIAL_MINIMUM",
    "DEFAULT_VAT_RATE",
    "STATUTORY_PAYMENT_DAYS",
    "BikBand",
    "BikBreakdown",
    "BusinessCosts",
    "bik_breakdown",
    "bik_costs",
    "bik_costs_for_invoices",
    "business_costs",
    "business_costs_due_from",
    "combined_principal",
]

#: BIK art. 2 lid 1 staffel (legal-nl §2.1): (width of the band, rate); ``None`` = the rest.
BIK_BANDS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal("2500"), Decimal("0.15")),
    (Decimal("2500"), Decimal("0.10")),
    (Decimal("5000"), Decimal("0.05")),
    (Decimal("190000"), Decimal("0.01")),
    (None, Decimal("0.005")),
)
BIK_MINIMUM = Decimal("40.00")  # BIK art. 2 lid 2 (legal-nl §2.1)
BIK_MAXIMUM = Decimal("6775.00")  # BIK art. 2 lid 1 (legal-nl §2.1)
DEFAULT_VAT_RATE = Decimal("0.21")  # art. 9 lid 1 Wet OB, via BIK art. 2 lid 3 (legal-nl §2.2)


@dataclass(frozen=True)
class BikBand:
    """One band of the staffel: the part of the principal in it and the exact (unrounded) cost."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class BikBreakdown:
    """How the BIK amount was reached, for letters and the CLI (legal-nl §2).

    ``staffel_amount`` is the exact sum of the bands; ``costs`` is that amount after the
    minimum/maximum, rounded once to cents (ROUND_HALF_UP). ``minimum_applied`` /
    ``maximum_applied`` are true when the result is the statutory bound rather than the staffel.
    ``vat`` is zero unless ``vat_increase``; ``total`` = ``costs`` + ``vat`` is the amount to state.
    """

    principal: Decimal
    bands: tuple[BikBand, ...]
    staffel_amount: Decimal
    minimum_applied: bool
    maximum_applied: bool
    costs: Decimal
    vat_increase: bool
    vat_rate: Decimal
    vat: Decimal
    total: Decimal


def bik_breakdown(
    principal: Decimal,
    *,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> BikBreakdown:
    """The BIK staffel applied to one (combined) principal (BIK art. 2; legal-nl §2.1–2.3).

    The principal excludes statutory interest (legal-nl §2.1); rounding happens once on the
    total, not per band, so a breakdown never adds a cent through rounding. VAT goes on top
    only when the creditor cannot deduct VAT and declares so (BIK art. 2 lid 3; legal-nl §2.2),
    also on the €40 minimum.
    """
    principal = money(principal, "principal")
    vat_rate = money(vat_rate, "vat_rate", positive=False)
    if not Decimal("0") <= vat_rate < Decimal("1"):
        raise InvalidAmountError(f"vat_rate must be a fraction between 0 and 1, got {vat_rate}")
    bands: list[BikBand] = []
    lower = Decimal("0")
    for width, rate in BIK_BANDS:
        upper = None if width is None else lower + width
        if principal <= lower:
            break
        base = principal - lower if upper is None else min(principal, upper) - lower
        bands.append(BikBand(lower, upper, rate, base, base * rate))
        lower = upper if upper is not None else lower
    staffel = sum((band.amount for band in bands), Decimal("0"))
    bounded = min(max(staffel, BIK_MINIMUM), BIK_MAXIMUM)
    costs = cents(bounded)
    vat = cents(costs * vat_rate) if vat_increase else Decimal("0.00")
    return BikBreakdown(
        principal=principal,
        bands=tuple(bands),
        staffel_amount=staffel,
        minimum_applied=staffel <= BIK_MINIMUM,
        maximum_applied=staffel >= BIK_MAXIMUM,
        costs=costs,
        vat_increase=vat_increase,
        vat_rate=vat_rate,
        vat=vat,
        total=costs + vat,
    )


def bik_costs(
    principal: Decimal,
    *,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> Decimal:
    """The maximum BIK costs to announce for this principal, VAT included if it may be added.

    BIK art. 2 (legal-nl §2.1, examples §2.3); VAT only per BIK art. 2 lid 3 (legal-nl §2.2).
    """
    return bik_breakdown(principal, vat_increase=vat_increase, vat_rate=vat_rate).total


def combined_principal(amounts: Iterable[Decimal]) -> Decimal:
    """The principals of all invoices in one letter, added up: the staffel is applied once
    to the sum, not per invoice (legal-nl §2.1 [S36]). Amounts must be open amounts (> 0)
    after partial payments and credit notes (legal-nl §1.2 nr. 1, §1.3)."""
    values = [money(amount, f"amounts[{i}]") for i, amount in enumerate(amounts)]
    if not values:
        raise InvalidAmountError("amounts must contain at least one open invoice amount")
    return sum(values, Decimal("0"))


def bik_costs_for_invoices(
    amounts: Iterable[Decimal],
    *,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> Decimal:
    """BIK costs for one letter covering several invoices (legal-nl §2.1: add, then staffel)."""
    return bik_costs(combined_principal(amounts), vat_increase=vat_increase, vat_rate=vat_rate)


# ---- business debtors (WIK trade agreements)

COMMERCIAL_MINIMUM = Decimal("40.00")  # art. 6:96 lid 4 BW (legal-nl §1.6)
STATUTORY_PAYMENT_DAYS = 30  # art. 6:119a lid 2 BW (legal-nl §1.6)


@dataclass(frozen=True)
class BusinessCosts:
    """What a business debtor may be told about costs if the claim is handed over (legal-nl §1.6).

    Nothing of this is charged in the pre-incasso phase (legal-nl §7.2). ``statutory_minimum``
    is the €40 of art. 6:96 lid 4 BW (trade agreements), ``bik`` the BIK staffel (default law
    in B2B), ``agreed`` the contractual amount if any. ``amount`` is the agreed amount (never
    below €40) or else the BIK amount. ``moderation_risk``: an agreed amount above the staffel
    may be moderated by the judge to the BIK staffel unless higher actual costs are shown
    (art. 242 Rv, HR 10-07-2015).
    """

    principal: Decimal
    statutory_minimum: Decimal
    bik: BikBreakdown
    agreed: Decimal | None
    amount: Decimal
    moderation_risk: bool


def business_costs(
    principal: Decimal,
    *,
    agreed_costs: Decimal | None = None,
    vat_increase: bool = False,
    vat_rate: Decimal = DEFAULT_VAT_RATE,
) -> BusinessCosts:
    """Costs for a business debtor under a trade agreement (art. 6:96 lid 4 BW; legal-nl §1.6).

    No 14-day letter is needed; at least €40 is due without aanmaning; the BIK staffel applies
    unless other costs were agreed, and agreed costs above the staffel risk moderation.
    """
    breakdown = bik_breakdown(principal, vat_increase=vat_increase, vat_rate=vat_rate)
    if agreed_costs is None:
        amount = max(breakdown.total, COMMERCIAL_MINIMUM)
        risk = False
    else:
        agreed_costs = cents(money(agreed_costs, "agreed_costs"))
        amount = max(agreed_costs, COMMERCIAL_MINIMUM)
        risk = agreed_costs > breakdown.total
    return BusinessCosts(
        principal=breakdown.principal,
        statutory_minimum=COMMERCIAL_MINIMUM,
        bik=breakdown,
        agreed=agreed_costs,
        amount=amount,
        moderation_risk=risk,
    )


def business_costs_due_from(
    *, agreed_due_date: date | None = None, invoice_received_on: date | None = None
) -> date:
    """First day the €40 / costs are due from a business debtor, without aanmaning.

    The day after the agreed payment deadline; with no agreed deadline, the statutory one of
    30 days after receipt of the invoice (art. 6:96 lid 4 and 6:119a lid 2 BW; legal-nl §1.6).
    "From 30 days after receipt" is read as: day 30 is the last day, costs from day 31.
    """
    if agreed_due_date is not None:
        return plain_date(agreed_due_date, "agreed_due_date") + timedelta(days=1)
    if invoice_received_on is not None:
        received = plain_date(invoice_received_on, "invoice_received_on")
        return received + timedelta(days=STATUTORY_PAYMENT_DAYS + 1)
    raise LegalRuleError("give agreed_due_date or invoice_received_on (art. 6:119a lid 2 BW)")
