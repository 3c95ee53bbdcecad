"""``connector legal``: the BIK amount and the 14-day term, computed the way letters do.

For operators checking a letter by hand; the rules live in :mod:`connector.collection.legal`
(legal-nl.md §1.3 for the term, §2 for the BIK staffel).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import click

from connector.collection import legal as rules

_NBSP = str.maketrans({"\u00a0": " ", "\u202f": " "})


def _euro(amount: Decimal) -> str:
    # Plain spaces in a terminal; letters keep babel's non-breaking ones.
    return rules.format_euro(amount).translate(_NBSP)


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}".replace(".", ",") + "%"


def parse_amount(text: str) -> Decimal:
    """A principal as people type it: "1234.56", "1234,56", "1.234,56", "1,234.56", "€ 1.234".

    A single separator followed by exactly three digits ("1.234") is ambiguous and refused;
    more than two decimals are refused (money is in cents); the result is more than 0.
    """
    raw = text.strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if not raw or not re.fullmatch(r"[0-9.,]+", raw):
        raise ValueError(f"{text!r} is not an amount; use e.g. 1234.56 or 1.234,56")
    if "." in raw and "," in raw:
        decimal_sep = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands_sep = "." if decimal_sep == "," else ","
        whole, _, fraction = raw.rpartition(decimal_sep)
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thousands_sep)}\d{{3}})+", whole):
            raise ValueError(f"{text!r} has misplaced thousands separators")
        whole = whole.replace(thousands_sep, "")
    elif raw.count(".") + raw.count(",") == 0:
        whole, fraction = raw, ""
    elif raw.count(".") + raw.count(",") == 1:
        whole, _, fraction = raw.replace(",", ".").partition(".")
        if len(fraction) == 3:
            raise ValueError(
                f"{text!r} is ambiguous (thousands or decimals?); write 1234 or 1.234,00"
            )
    else:
        sep = "." if "." in raw else ","
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+", raw):
            raise ValueError(f"{text!r} has misplaced separators")
        whole, fraction = raw.replace(sep, ""), ""
    if not whole or len(fraction) > 2 or (fraction and not fraction.isdigit()):
        raise ValueError(f"{text!r} is not an amount in euros and cents (at most 2 decimals)")
    try:
        amount = Decimal(f"{whole}.{fraction or '0'}")
    except InvalidOperation as exc:  # pragma: no cover - the checks above prevent this
        raise ValueError(f"{text!r} is not an amount") from exc
    if amount <= 0:
        raise ValueError(f"{text!r}: the principal must be more than € 0,00")
    return amount


class AmountType(click.ParamType):
    name = "amount"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class IsoDateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.fail(f"{text!r} is not a date in the form YYYY-MM-DD", param, ctx)
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not an existing date", param, ctx)


def _day(value: date) -> str:
    return f"{rules.format_long_date(value, 'nl')} ({value.isoformat()})"


@click.group(name="legal")
def legal() -> None:
    """Dutch legal rules: BIK costs and the 14-day term (legal-nl.md)."""


@legal.command("bik")
@click.argument("amount", type=AmountType())
@click.option("--vat-increase", is_flag=True,
              help="The creditor cannot deduct VAT and declares so (BIK art. 2 lid 3).")
def bik(amount: Decimal, vat_increase: bool) -> None:
    """BIK collection costs for a principal AMOUNT (all open invoices of one letter together)."""
    breakdown = rules.bik_breakdown(amount, vat_increase=vat_increase)
    click.echo(f"BIK costs: {_euro(breakdown.total)}")
    click.echo(f"Principal: {_euro(breakdown.principal)}")
    for band in breakdown.bands:
        click.echo(f"  {_percent(band.rate)} of {_euro(band.base)} = "
                   f"{_euro(band.amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP))}")
    if breakdown.minimum_applied:
        click.echo(f"Minimum applied: {_euro(rules.BIK_MINIMUM)} (BIK art. 2 lid 2)")
    if breakdown.maximum_applied:
        click.echo(f"Maximum applied: {_euro(rules.BIK_MAXIMUM)} (BIK art. 2 lid 1)")
    click.echo(f"Costs excl. VAT: {_euro(breakdown.costs)}")
    if vat_increase:
        click.echo(f"VAT {_percent(breakdown.vat_rate)}: {_euro(breakdown.vat)} "
                   "(only with the creditor's declaration in the letter)")


@legal.command("term")
@click.argument("posted_on", metavar="YYYY-MM-DD", type=IsoDateType())
@click.option("--email", is_flag=True, help="Sent by e-mail instead of ordinary post.")
def term(posted_on: date, email: bool) -> None:
    """The 14-day term of a consumer letter sent on YYYY-MM-DD (art. 6:96 lid 6 BW)."""
    try:
        result = rules.term_for_letter(posted_on, delivery="email" if email else "post")
    except (rules.HolidayDataError, OverflowError):
        # No reliable Dutch holiday data for that year (or the term runs past year 9999).
        raise click.ClickException(
            f"cannot compute a term for a letter sent on {posted_on.isoformat()}: Dutch "
            "holiday data is only reliable for current years") from None
    click.echo(f"Sent:               {_day(result.posted_on)} by {'e-mail' if email else 'post'}")
    click.echo(f"Presumed delivery:  {_day(result.presumed_delivery)}")
    extended = " (moved to the next working day)" if result.extended_by_atw else ""
    click.echo(f"Last day to pay:    {_day(result.last_day_to_pay)}{extended}")
    click.echo(f"Costs due from:     {_day(result.costs_due_from)}")
    if result.receipt_must_be_proven:
        click.echo("Note: no presumption of receipt for e-mail; keep delivery evidence.")
    click.echo(f"Wording (nl): {rules.safe_term_wording(result, 'nl')}")
    click.echo(f"Wording (en): {rules.safe_term_wording(result, 'en')}")
