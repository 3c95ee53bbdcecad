"""Dutch legal rules (connector.collection.legal): BIK, the 14-day term, contact windows,
forbidden content, and the ``connector legal`` CLI. Section numbers refer to legal-nl.md."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest
from babel.numbers import format_currency
from click.testing import CliRunner

from connector.collection import legal
from connector.collection.legal_cli import legal as legal_cli
from connector.collection.legal_cli import parse_amount

AMS = ZoneInfo("Europe/Amsterdam")
D = Decimal


# --------------------------------------------------------------------------- BIK (§2)


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        # first boundary 2,500: 15% band only; 2,499.99 * 0.15 = 374.9985 -> 375.00
        ("2499.99", "375.00"),
        ("2500.00", "375.00"),
        ("2500.01", "375.00"),  # 375 + 0.001
        # 5,000: 375 + 250 = 625
        ("4999.99", "625.00"),  # 375 + 249.999
        ("5000.00", "625.00"),
        ("5000.01", "625.00"),  # 625 + 0.0005 -> 625.00
        # 10,000: 625 + 250 = 875
        ("9999.99", "875.00"),  # 874.9995 -> 875.00 (half up)
        ("10000.00", "875.00"),
        ("10000.01", "875.00"),  # 875.0001
        # 200,000: 875 + 1,900 = 2,775
        ("199999.99", "2775.00"),  # 2774.9999
        ("200000.00", "2775.00"),
        ("200000.01", "2775.00"),  # 2775.00005
        # a cent of difference shows once the bands are wider
        ("2600.00", "385.00"),  # 375 + 10% of 100
        ("5100.00", "630.00"),  # 625 + 5% of 100
        ("11000.00", "885.00"),  # 875 + 1% of 1,000
        ("210000.00", "2825.00"),  # 2,775 + 0.5% of 10,000
    ],
)
def test_bik_at_every_staffel_boundary(principal: str, costs: str) -> None:
    assert legal.bik_costs(D(principal)) == D(costs)


@pytest.mark.parametrize(
    ("principal", "costs", "with_vat"),
    [  # legal-nl.md §2.3, every row
        ("100", "40.00", "48.40"),
        ("266.67", "40.00", "48.40"),
        ("1000", "150.00", "181.50"),
        ("2500", "375.00", "453.75"),
        ("3000", "425.00", "514.25"),
        ("7500", "750.00", "907.50"),
        ("25000", "1025.00", "1240.25"),
        ("1000000", "6775.00", "8197.75"),
        ("2000000", "6775.00", "8197.75"),
    ],
)
def test_bik_worked_examples_of_legal_nl(principal: str, costs: str, with_vat: str) -> None:
    assert legal.bik_costs(D(principal)) == D(costs)
    assert legal.bik_costs(D(principal), vat_increase=True) == D(with_vat)


def test_bik_minimum_and_maximum_flags() -> None:
    small = legal.bik_breakdown(D("100"))
    assert (small.staffel_amount, small.costs, small.minimum_applied) == (D("15.00"), D("40.00"),
                                                                          True)
    assert not small.maximum_applied
    # 266.66 * 15% = 39.999 < 40 -> minimum; 266.67 -> 40.0005, the staffel itself
    assert legal.bik_breakdown(D("266.66")).minimum_applied
    assert not legal.bik_breakdown(D("266.67")).minimum_applied
    big = legal.bik_breakdown(D("1000000"))
    assert big.costs == legal.BIK_MAXIMUM == D("6775.00") and big.maximum_applied
    huge = legal.bik_breakdown(D("5000000"))
    assert huge.staffel_amount == D("26775.000") and huge.costs == D("6775.00")


def test_bik_breakdown_bands() -> None:
    breakdown = legal.bik_breakdown(D("25000"))
    assert [(b.lower, b.upper, b.rate, b.base, b.amount) for b in breakdown.bands] == [
        (D("0"), D("2500"), D("0.15"), D("2500"), D("375.00")),
        (D("2500"), D("5000"), D("0.10"), D("2500"), D("250.00")),
        (D("5000"), D("10000"), D("0.05"), D("5000"), D("250.00")),
        (D("10000"), D("200000"), D("0.01"), D("15000"), D("150.00")),
    ]
    assert breakdown.vat == D("0.00") and breakdown.total == D("1025.00")
    top = legal.bik_breakdown(D("1000000"))
    assert top.bands[-1].upper is None and top.bands[-1].base == D("800000")


@pytest.mark.parametrize(
    ("principal", "costs"),
    [
        ("300.10", "45.02"),  # 45.015 -> 45.02
        ("300.30", "45.05"),  # 45.045 -> 45.05 (half-even would give 45.04)
        ("300.29", "45.04"),  # 45.0435
        ("2700.05", "395.01"),  # 375 + 20.005 -> 395.01 (half up on the total)
    ],
)
def test_bik_rounds_half_up_to_cents(principal: str, costs: str) -> None:
    assert legal.bik_costs(D(principal)) == D(costs)


def test_vat_only_with_vat_increase_and_rounded_half_up() -> None:
    # 270.00 -> 40.50; VAT 21% = 8.505 -> 8.51 (half up)
    assert legal.bik_costs(D("270.00")) == D("40.50")
    breakdown = legal.bik_breakdown(D("270.00"), vat_increase=True)
    assert (breakdown.costs, breakdown.vat, breakdown.total) == (D("40.50"), D("8.51"),
                                                                 D("49.01"))
    assert legal.bik_breakdown(D("270.00")).vat == D("0.00")
    assert legal.bik_costs(D("1000"), vat_increase=True, vat_rate=D("0.09")) == D("163.50")


def test_bik_on_combined_principal_of_all_invoices() -> None:
    # §2.1: add the principals, apply the staffel once: 1,800 + 1,500 = 3,300 -> 375 + 80 = 455
    assert legal.combined_principal([D("1800.00"), D("1500.00")]) == D("3300.00")
    assert legal.bik_costs_for_invoices([D("1800.00"), D("1500.00")]) == D("455.00")
    assert legal.bik_costs(D("1800")) + legal.bik_costs(D("1500")) == D("495.00")
    assert legal.bik_costs_for_invoices([D("100"), D("50")], vat_increase=True) == D("48.40")


@pytest.mark.parametrize("bad", [D("0"), D("-0.01"), D("-100"), D("NaN"), D("Infinity")])
def test_bik_refuses_non_positive_principal(bad: Decimal) -> None:
    with pytest.raises(ValueError, match="principal"):
        legal.bik_costs(bad)


@pytest.mark.parametrize("bad", [100.0, 100, "100"])
def test_bik_refuses_non_decimal_money(bad: object) -> None:
    with pytest.raises(legal.InvalidAmountError, match=r"decimal\.Decimal"):
        legal.bik_costs(bad)  # type: ignore[arg-type]


def test_bik_invoice_helper_refuses_empty_and_non_positive() -> None:
    with pytest.raises(legal.InvalidAmountError, match="at least one"):
        legal.combined_principal([])
    with pytest.raises(legal.InvalidAmountError, match=r"amounts\[1\]"):
        legal.combined_principal([D("10"), D("-5")])
    with pytest.raises(legal.InvalidAmountError, match="vat_rate"):
        legal.bik_costs(D("100"), vat_increase=True, vat_rate=D("21"))


# --------------------------------------------------------------------------- business (§1.6)


def test_business_costs_default_to_the_staffel_never_below_40() -> None:
    costs = legal.business_costs(D("100"))
    assert costs.statutory_minimum == D("40.00")  # art. 6:96 lid 4 BW
    assert costs.amount == D("40.00") and costs.agreed is None and not costs.moderation_risk
    assert legal.business_costs(D("3000")).amount == D("425.00")


def test_business_agreed_costs_above_staffel_risk_moderation() -> None:
    # 15% in the terms on 3,000 = 450 > BIK 425: may be moderated (HR 10-07-2015)
    costs = legal.business_costs(D("3000"), agreed_costs=D("450"))
    assert (costs.amount, costs.moderation_risk, costs.bik.total) == (D("450.00"), True,
                                                                      D("425.00"))
    # agreed below €40 cannot go below the lid 4 minimum
    low = legal.business_costs(D("100"), agreed_costs=D("25"))
    assert (low.amount, low.moderation_risk) == (D("40.00"), False)


def test_business_costs_due_from() -> None:
    assert legal.business_costs_due_from(agreed_due_date=date(2026, 3, 31)) == date(2026, 4, 1)
    # no agreed term: 30 days after receipt (6:119a lid 2): received 1 Mar -> day 30 = 31 Mar
    assert legal.business_costs_due_from(invoice_received_on=date(2026, 3, 1)) == date(2026, 4, 1)
    with pytest.raises(legal.LegalRuleError, match="agreed_due_date or invoice_received_on"):
        legal.business_costs_due_from()


@pytest.mark.parametrize(
    ("kind", "needed"), [("consumer", True), ("business", False), ("unknown", True),
                         ("Business", False)]
)
def test_fourteen_day_letter_only_for_consumers(kind: str, needed: bool) -> None:
    assert legal.requires_fourteen_day_letter(kind) is needed


def test_unknown_debtor_kind_is_refused() -> None:
    with pytest.raises(legal.InvalidChoiceError, match="debtor_kind"):
        legal.requires_fourteen_day_letter("private")


# --------------------------------------------------------------------------- holidays (§1.3)


def test_holiday_list_follows_the_atw_list_of_legal_nl() -> None:
    assert legal.atw_holidays(2026) == {
        date(2026, 1, 1): "Nieuwjaarsdag",
        date(2026, 4, 6): "Tweede Paasdag",
        date(2026, 4, 27): "Koningsdag",
        date(2026, 5, 5): "Bevrijdingsdag (5 mei)",  # every year per legal-nl.md, not lustrum only
        date(2026, 5, 14): "Hemelvaartsdag",
        date(2026, 5, 25): "Tweede Pinksterdag",
        date(2026, 12, 25): "Eerste Kerstdag",
        date(2026, 12, 26): "Tweede Kerstdag",
    }
    good_friday = date(2026, 4, 3)
    assert good_friday in holidays.country_holidays("NL", years=2026)  # the package has it …
    assert not legal.is_public_holiday(good_friday)  # … the Atw list does not


def test_kings_day_on_the_26th_when_the_27th_is_a_sunday() -> None:
    assert date(2025, 4, 27).weekday() == 6
    assert legal.is_public_holiday(date(2025, 4, 26))
    assert not legal.is_public_holiday(date(2025, 4, 27))


def test_designated_days_count_as_holidays() -> None:
    assert legal.is_public_holiday(date(2024, 5, 10))
    assert legal.is_public_holiday(date(2024, 12, 27))
    assert not legal.is_working_day(date(2024, 5, 10))


# --------------------------------------------------------------------------- term (§1.2–1.4)


@pytest.mark.parametrize(
    ("posted", "delivered", "last_day", "costs_from"),
    [
        # legal-nl.md §1.3 worked examples (2026):
        # Mon 2 Mar -> Tue(1) Wed(2) = Wed 4 Mar; +14 = Wed 18 Mar
        (date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 18), date(2026, 3, 19)),
        # Thu 5 Mar -> Fri(1) Sat(2) = Sat 7 Mar; +14 = Sat 21 Mar -> Atw -> Mon 23 Mar
        (date(2026, 3, 5), date(2026, 3, 7), date(2026, 3, 23), date(2026, 3, 24)),
        # Fri 6 Mar -> Sat(1) Sun- Mon- Tue(2) = Tue 10 Mar; +14 = Tue 24 Mar
        (date(2026, 3, 6), date(2026, 3, 10), date(2026, 3, 24), date(2026, 3, 25)),
        # Saturday posting: Sat 7 Mar -> Sun- Mon- Tue(1) Wed(2) = Wed 11 Mar; +14 = Wed 25 Mar
        (date(2026, 3, 7), date(2026, 3, 11), date(2026, 3, 25), date(2026, 3, 26)),
        # Easter 2026 (Good Friday 3 Apr, Easter Monday 6 Apr):
        # posted on Good Friday: Sat 4(1) Sun- Mon 6 (Monday + Easter Monday)- Tue 7(2);
        # +14 = Tue 21 Apr
        (date(2026, 4, 3), date(2026, 4, 7), date(2026, 4, 21), date(2026, 4, 22)),
        # posted Thu 2 Apr: Good Friday is no Atw holiday, so Fri 3(1) Sat 4(2) = Sat 4 Apr;
        # +14 = Sat 18 Apr -> Mon 20 Apr
        (date(2026, 4, 2), date(2026, 4, 4), date(2026, 4, 20), date(2026, 4, 21)),
        # posted Thu 19 Mar: Fri 20(1) Sat 21(2); +14 = Sat 4 Apr -> Sun 5 -> Easter Mon 6
        # -> Tue 7 Apr
        (date(2026, 3, 19), date(2026, 3, 21), date(2026, 4, 7), date(2026, 4, 8)),
        # King's Day 2026 Mon 27 Apr: posted Thu 9 Apr: Fri 10(1) Sat 11(2); +14 = Sat 25 Apr
        # -> Sun 26 -> Mon 27 King's Day -> Tue 28 Apr
        (date(2026, 4, 9), date(2026, 4, 11), date(2026, 4, 28), date(2026, 4, 29)),
        # King's Day 2025 on Sat 26 Apr (27 Apr is a Sunday): posted Thu 24 Apr:
        # Fri 25(1) Sat 26 King's Day- Sun- Mon- Tue 29(2); +14 = Tue 13 May
        (date(2025, 4, 24), date(2025, 4, 29), date(2025, 5, 13), date(2025, 5, 14)),
        # 5 May 2026 (Tue, not a lustrum year) counts per legal-nl.md: posted Mon 4 May:
        # Tue 5 May- Wed 6(1) Thu 7(2); +14 = Thu 21 May
        (date(2026, 5, 4), date(2026, 5, 7), date(2026, 5, 21), date(2026, 5, 22)),
        # Ascension Thu 14 May 2026: posted Tue 12 May: Wed 13(1) Thu 14- Fri 15(2);
        # +14 = Fri 29 May
        (date(2026, 5, 12), date(2026, 5, 15), date(2026, 5, 29), date(2026, 5, 30)),
        # Whit Monday 25 May 2026: posted Thu 7 May: Fri 8(1) Sat 9(2); +14 = Sat 23 May
        # -> Sun 24 -> Whit Mon 25 -> Tue 26 May
        (date(2026, 5, 7), date(2026, 5, 9), date(2026, 5, 26), date(2026, 5, 27)),
        # Christmas 2026 (Fri 25, Sat 26 Dec): posted Wed 23 Dec: Thu 24(1) Fri- Sat- Sun-
        # Mon- Tue 29(2); +14 = Tue 12 Jan 2027
        (date(2026, 12, 23), date(2026, 12, 29), date(2027, 1, 12), date(2027, 1, 13)),
        # posted Thu 24 Dec 2026: Fri- Sat- Sun- Mon- Tue 29(1) Wed 30(2); +14 = Wed 13 Jan
        (date(2026, 12, 24), date(2026, 12, 30), date(2027, 1, 13), date(2027, 1, 14)),
        # Christmas 2025 (Thu 25, Fri 26): posted Tue 23 Dec: Wed 24(1) Thu- Fri- Sat 27(2);
        # +14 = Sat 10 Jan 2026 -> Mon 12 Jan
        (date(2025, 12, 23), date(2025, 12, 27), date(2026, 1, 12), date(2026, 1, 13)),
        # posted Wed 24 Dec 2025: Thu- Fri- Sat 27(1) Sun- Mon- Tue 30(2); +14 = Tue 13 Jan
        (date(2025, 12, 24), date(2025, 12, 30), date(2026, 1, 13), date(2026, 1, 14)),
        # New Year: posted Tue 30 Dec 2025: Wed 31(1) Thu 1 Jan- Fri 2 Jan(2); +14 = Fri 16 Jan
        (date(2025, 12, 30), date(2026, 1, 2), date(2026, 1, 16), date(2026, 1, 17)),
        # designated day Fri 10 May 2024 (after Ascension Thu 9 May): posted Wed 8 May:
        # Thu- Fri- Sat 11(1) Sun- Mon- Tue 14(2); +14 = Tue 28 May
        (date(2024, 5, 8), date(2024, 5, 14), date(2024, 5, 28), date(2024, 5, 29)),
    ],
)
def test_term_by_post(posted: date, delivered: date, last_day: date, costs_from: date) -> None:
    term = legal.term_for_letter(posted)
    assert (term.presumed_delivery, term.last_day_to_pay, term.costs_due_from) == (
        delivered, last_day, costs_from)
    assert term.first_day == delivered + timedelta(days=1)
    assert term.fourteenth_day == delivered + timedelta(days=14)
    assert term.extended_by_atw is (last_day != term.fourteenth_day)
    assert term.delivery == "post" and not term.receipt_must_be_proven


@pytest.mark.parametrize(
    ("sent", "last_day"),
    [
        # e-mail: delivered the day it is sent. Mon 2 Mar + 14 = Mon 16 Mar
        (date(2026, 3, 2), date(2026, 3, 16)),
        # Mon 23 Mar + 14 = Mon 6 Apr, Easter Monday -> Tue 7 Apr
        (date(2026, 3, 23), date(2026, 4, 7)),
        # Sat 7 Mar + 14 = Sat 21 Mar -> Mon 23 Mar
        (date(2026, 3, 7), date(2026, 3, 23)),
    ],
)
def test_term_by_email(sent: date, last_day: date) -> None:
    term = legal.term_for_letter(sent, delivery="email")
    assert term.presumed_delivery == sent
    assert term.last_day_to_pay == last_day
    assert term.costs_due_from == last_day + timedelta(days=1)
    assert term.receipt_must_be_proven  # §1.4: no presumption for e-mail


def test_term_refuses_bad_input() -> None:
    with pytest.raises(legal.InvalidChoiceError, match="delivery"):
        legal.term_for_letter(date(2026, 3, 2), delivery="sms")  # type: ignore[arg-type]
    with pytest.raises(legal.LegalRuleError, match="not a datetime"):
        legal.term_for_letter(datetime(2026, 3, 2, 9, tzinfo=AMS))


def test_safe_term_wording_dutch_and_english() -> None:
    term = legal.term_for_letter(date(2026, 3, 6))  # last day Tue 24 Mar 2026
    assert legal.safe_term_wording(term) == (
        "binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd "
        "(betaalt u uiterlijk op dinsdag 24 maart 2026, dan bent u in elk geval op tijd)"
    )
    assert legal.safe_term_wording(term, "en") == (
        "within fourteen days from the day after this letter has been delivered to you "
        "(if you pay no later than Tuesday 24 March 2026, you are in time in any case)"
    )
    assert legal.safe_term_wording(term, include_date=False) == (
        "binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd"
    )
    with pytest.raises(legal.InvalidChoiceError, match="language"):
        legal.safe_term_wording(term, "de")


def test_safe_wording_passes_the_checks_and_its_date_is_never_too_early() -> None:
    term = legal.term_for_letter(date(2026, 3, 5))
    wording = legal.safe_term_wording(term)
    assert "maandag 23 maart 2026" in wording  # the Atw-extended day, not Sat 21 Mar
    assert legal.check_message_text(f"Betaal {wording}.", debtor_kind="consumer") == []


# --------------------------------------------------------------------------- contact (§4.2, §4.4)


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (datetime(2026, 3, 10, 19, 59, tzinfo=AMS), True),  # Tuesday
        (datetime(2026, 3, 10, 19, 59, 59, tzinfo=AMS), True),
        (datetime(2026, 3, 10, 20, 0, tzinfo=AMS), False),
        (datetime(2026, 3, 10, 6, 59, tzinfo=AMS), False),
        (datetime(2026, 3, 10, 7, 0, tzinfo=AMS), True),
        (datetime(2026, 3, 10, 23, 30, tzinfo=AMS), False),
        (datetime(2026, 3, 7, 12, 0, tzinfo=AMS), True),  # Saturday: allowed by legal-nl.md
        (datetime(2026, 3, 8, 12, 0, tzinfo=AMS), False),  # Sunday
        (datetime(2026, 4, 6, 12, 0, tzinfo=AMS), False),  # Easter Monday
        (datetime(2026, 4, 27, 12, 0, tzinfo=AMS), False),  # King's Day
        (datetime(2026, 5, 5, 12, 0, tzinfo=AMS), False),  # 5 mei (Atw list)
        (datetime(2026, 12, 25, 12, 0, tzinfo=AMS), False),  # Christmas
        (datetime(2024, 12, 27, 12, 0, tzinfo=AMS), False),  # designated day (§4.2)
        (datetime(2026, 4, 3, 12, 0, tzinfo=AMS), True),  # Good Friday: not on the list
        # the same instants in UTC: 10 Mar is CET (UTC+1)
        (datetime(2026, 3, 10, 18, 59, tzinfo=UTC), True),
        (datetime(2026, 3, 10, 19, 0, tzinfo=UTC), False),
        (datetime(2026, 3, 10, 5, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 10, 6, 0, tzinfo=UTC), True),
        # summer (CEST, UTC+2): 07:00 Amsterdam = 05:00 UTC
        (datetime(2026, 6, 9, 4, 59, tzinfo=UTC), False),
        (datetime(2026, 6, 9, 5, 0, tzinfo=UTC), True),
        (datetime(2026, 6, 9, 17, 59, tzinfo=UTC), True),
        (datetime(2026, 6, 9, 18, 0, tzinfo=UTC), False),
        # other offsets: 12:00 in New York (UTC-4 in June) = 18:00 Amsterdam
        (datetime(2026, 6, 9, 12, 0, tzinfo=ZoneInfo("America/New_York")), True),
        (datetime(2026, 6, 9, 14, 0, tzinfo=timezone(timedelta(hours=-4))), False),  # 20:00
    ],
)
def test_may_contact(moment: datetime, allowed: bool) -> None:
    assert legal.may_contact(moment) is allowed


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        # DST starts Sun 29 Mar 2026 (a Sunday: no contact at all)
        (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), False),
        # Sat 28 Mar still CET (UTC+1): 07:00 = 06:00Z, 20:00 = 19:00Z
        (datetime(2026, 3, 28, 5, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 28, 6, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 28, 18, 59, tzinfo=UTC), True),
        (datetime(2026, 3, 28, 19, 0, tzinfo=UTC), False),
        # Mon 30 Mar CEST (UTC+2): 07:00 = 05:00Z, 20:00 = 18:00Z
        (datetime(2026, 3, 30, 4, 59, tzinfo=UTC), False),
        (datetime(2026, 3, 30, 5, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 18, 0, tzinfo=UTC), False),
        # DST ends Sun 25 Oct 2026; Sat 24 Oct is CEST, Mon 26 Oct CET
        (datetime(2026, 10, 24, 17, 59, tzinfo=UTC), True),
        (datetime(2026, 10, 24, 18, 0, tzinfo=UTC), False),
        (datetime(2026, 10, 26, 5, 59, tzinfo=UTC), False),
        (datetime(2026, 10, 26, 6, 0, tzinfo=UTC), True),
    ],
)
def test_may_contact_around_dst_changes(moment: datetime, allowed: bool) -> None:
    assert legal.may_contact(moment) is allowed


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # allowed already: the same instant, in UTC
        (datetime(2026, 3, 10, 12, 0, tzinfo=AMS), datetime(2026, 3, 10, 11, 0, tzinfo=UTC)),
        # before 07:00 on a contact day: 07:00 that day (CET)
        (datetime(2026, 3, 10, 5, 0, tzinfo=AMS), datetime(2026, 3, 10, 6, 0, tzinfo=UTC)),
        # Tue 20:00: Wed 07:00
        (datetime(2026, 3, 10, 20, 0, tzinfo=AMS), datetime(2026, 3, 11, 6, 0, tzinfo=UTC)),
        # Sat 28 Mar 20:00 CET -> Sunday (and DST) -> Mon 30 Mar 07:00 CEST = 05:00Z
        (datetime(2026, 3, 28, 19, 0, tzinfo=UTC), datetime(2026, 3, 30, 5, 0, tzinfo=UTC)),
        # Sat 24 Oct 20:00 CEST -> Sunday (DST ends) -> Mon 26 Oct 07:00 CET = 06:00Z
        (datetime(2026, 10, 24, 18, 0, tzinfo=UTC), datetime(2026, 10, 26, 6, 0, tzinfo=UTC)),
        # Sat 4 Apr 20:30 -> Sun 5, Easter Mon 6 -> Tue 7 Apr 07:00 CEST = 05:00Z
        (datetime(2026, 4, 4, 20, 30, tzinfo=AMS), datetime(2026, 4, 7, 5, 0, tzinfo=UTC)),
        # Thu 24 Dec 20:00 -> Christmas Fri, Sat, Sun -> Mon 28 Dec 07:00 CET = 06:00Z
        (datetime(2026, 12, 24, 20, 0, tzinfo=AMS), datetime(2026, 12, 28, 6, 0, tzinfo=UTC)),
    ],
)
def test_next_contact_moment(after: datetime, expected: datetime) -> None:
    result = legal.next_contact_moment(after)
    assert result == expected and result.tzinfo is UTC
    assert legal.may_contact(result)


def test_second_contact_on_the_same_amsterdam_day_is_refused() -> None:
    at = datetime(2026, 6, 10, 10, 0, tzinfo=AMS)
    assert legal.contact_allowed(at, [])
    assert not legal.contact_allowed(at, [datetime(2026, 6, 10, 8, 0, tzinfo=AMS)])
    # 9 June 22:30 UTC is 10 June 00:30 in Amsterdam: the same local day, another UTC date
    previous = datetime(2026, 6, 9, 22, 30, tzinfo=UTC)
    assert previous.date() != at.astimezone(UTC).date()
    assert not legal.contact_allowed(at, [previous])
    # 10 June 22:30 UTC is already 11 June in Amsterdam: same UTC date, another local day
    later = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)
    assert later.date() == at.astimezone(UTC).date()
    assert legal.contact_allowed(at, [later])
    assert legal.contact_allowed(at, [datetime(2026, 6, 9, 19, 0, tzinfo=AMS)])


def test_contact_cap_is_configurable_up_to_three() -> None:
    at = datetime(2026, 6, 10, 15, 0, tzinfo=AMS)
    earlier = [datetime(2026, 6, 10, 9, 0, tzinfo=AMS), datetime(2026, 6, 10, 11, 0, tzinfo=AMS)]
    assert legal.contact_allowed(at, earlier, max_per_day=3)
    assert not legal.contact_allowed(at, [*earlier, at - timedelta(hours=1)], max_per_day=3)
    with pytest.raises(legal.LegalRuleError, match="between 1 and 3"):
        legal.contact_allowed(at, [], max_per_day=4)


def test_contact_outside_the_window_is_refused_even_without_history() -> None:
    assert not legal.contact_allowed(datetime(2026, 6, 10, 21, 0, tzinfo=AMS), [])
    assert not legal.contact_allowed(datetime(2026, 6, 14, 12, 0, tzinfo=AMS), [])  # Sunday


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 6, 10, 12, 0)
    with pytest.raises(legal.NaiveDatetimeError, match="timezone-aware"):
        legal.may_contact(naive)
    with pytest.raises(legal.NaiveDatetimeError):
        legal.next_contact_moment(naive)
    with pytest.raises(legal.NaiveDatetimeError, match=r"previous_contacts\[0\]"):
        legal.contact_allowed(datetime(2026, 6, 10, 12, 0, tzinfo=AMS), [naive])


# --------------------------------------------------------------------------- content (§7.3)

CLEAN = (
    "Beste Piet de Vries,\n\n"
    "Namens Bakkerij Jansen B.V. herinneren wij u aan de volgende onbetaalde factuur:\n"
    "  - factuur 2026-001 van 01-01-2026, vervallen op 31-01-2026: € 1.234,56\n\n"
    "U kunt dit bedrag zonder extra kosten betalen binnen veertien dagen vanaf de dag nadat "
    "deze brief bij u is bezorgd (betaalt u uiterlijk op dinsdag 24 maart 2026, dan bent u in "
    "elk geval op tijd). Maak het bedrag over op rekening NL00BANK0123456789 t.n.v. Bakkerij "
    "Jansen B.V. onder vermelding van 2026-001.\n\n"
    "Betaalt u niet binnen deze termijn, dan draagt Bakkerij Jansen B.V. de vordering over aan "
    "een incassobureau en moet u ook € 185,18 aan buitengerechtelijke incassokosten betalen, "
    "berekend volgens het Besluit vergoeding voor buitengerechtelijke incassokosten. Deze kosten "
    "worden pas in rekening gebracht als u niet uiterlijk 24-03-2026 betaalt. Aan deze brief "
    "zijn geen kosten verbonden.\n\n"
    "Heeft u vragen? Neem contact op met Bakkerij Jansen B.V. Heeft u inmiddels betaald, dan "
    "kunt u deze brief als niet verzonden beschouwen.\n"
)


@pytest.mark.parametrize("kind", ["consumer", "business", "unknown"])
def test_clean_text_passes(kind: str) -> None:
    assert legal.check_message_text(CLEAN, debtor_kind=kind) == []


@pytest.mark.parametrize(
    ("sentence", "fragment", "code_word"),
    [
        ("Wij rekenen € 15,00 administratiekosten.", "administratiekosten", "andere kosten"),
        ("Er komen dossierkosten bij.", "dossierkosten", "andere kosten"),
        ("Herinneringskosten: € 5,00.", "herinneringskosten", "andere kosten"),
        ("U betaalt € 7,50 aanmaningskosten.", "aanmaningskosten", "andere kosten"),
        ("Inclusief administratie- en dossierkosten.", "administratie- en", "andere kosten"),
        ("Wij brengen pre-incassokosten in rekening.", "pre-incassokosten", "andere kosten"),
        ("De incassokosten zijn nu al verschuldigd.", "kosten zijn nu al verschuldigd",
         "geen kosten in rekening"),
        ("Wij brengen u hierbij kosten in rekening.", "wij brengen u hierbij kosten",
         "geen kosten in rekening"),
        ("Het totaalbedrag inclusief incassokosten is € 225,18.", "inclusief incassokosten",
         "geen kosten in rekening"),
        ("Wij leggen beslag op uw loon.", "beslag", "beslag"),
        ("Loonbeslag volgt.", "loonbeslag", "beslag"),
        ("Er volgt beslaglegging op uw inboedel.", "beslaglegging", "beslag"),
        ("Wij melden u aan bij het BKR.", "bkr", "BKR"),
        ("U komt op een zwarte lijst.", "zwarte lijst", "BKR"),
        ("De deurwaarder komt bij u langs.", "deurwaarder komt bij u langs", "deurwaarder"),
        ("U wordt direct gedagvaard.", "u wordt direct gedagvaard", "dagvaarding"),
        ("Wij zullen u dagvaarden.", "wij zullen u dagvaarden", "dagvaarding"),
        ("Dit zonder verdere aankondiging.", "zonder verdere aankondiging", "dagvaarding"),
        ("Dit is een exploot.", "exploot", "officiële akte"),
        ("Bevel tot betaling.", "bevel tot betaling", "officiële akte"),
        ("Wij, incassobureau Snel, sommeren u.", "wij, incassobureau", "voordoen"),
        ("Namens het incassobureau vragen wij betaling.", "namens het incassobureau",
         "voordoen"),
        ("Uw vordering is inmiddels uit handen gegeven.", "is inmiddels uit handen gegeven",
         "al uit handen"),
        ("Wij nemen contact op met uw werkgever.", "werkgever", "derden"),
        ("Wij informeren uw familie.", "familie", "derden"),
        ("U bent een wanbetaler.", "wanbetaler", "agressieve"),
        ("Wij doen aangifte bij de politie.", "aangifte", "agressieve"),
    ],
)
def test_each_forbidden_phrase_is_caught(sentence: str, fragment: str, code_word: str) -> None:
    for kind in ("consumer", "business"):
        problems = legal.check_message_text(CLEAN + sentence, debtor_kind=kind)
        assert any(f'"{fragment}"' in p and code_word in p and "legal-nl.md §" in p
                   for p in problems), problems


@pytest.mark.parametrize(
    ("sentence", "fragment"),
    [
        ("Betaal binnen 14 dagen na heden.", "na heden"),
        ("Betaal binnen veertien dagen na dagtekening.", "na dagtekening"),
        ("Betaal binnen 14 dagen na verzending.", "na verzending"),
        ("Betaal binnen 14 dagen vanaf de dag na dagtekening.", "vanaf de dag na dagtekening"),
        ("Betaal binnen 14 dagen na de datum van deze brief.", "na de datum van deze brief"),
        ("Betaal per omgaande.", "betaal per omgaande"),
        ("Wij verzoeken u binnen 8 dagen te betalen.", "binnen 8 dagen te betalen"),
        ("Graag binnen een week overmaken.", "binnen een week overmaken"),
        ("Betaal het bedrag binnen 7 dagen.", "betaal het bedrag binnen 7 dagen"),
    ],
)
def test_term_wording_rules_apply_to_consumers_only(sentence: str, fragment: str) -> None:
    consumer = legal.check_message_text(sentence, debtor_kind="consumer")
    unknown = legal.check_message_text(sentence, debtor_kind="unknown")
    business = legal.check_message_text(sentence, debtor_kind="business")
    assert any(f'"{fragment}"' in p and "§1.2" in p for p in consumer), consumer
    assert unknown == consumer
    assert business == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Betaalt u niet op tijd, dan wordt het bedrag verhoogd met € 40,00 aan incassokosten.",
        "Als u niet betaalt, zijn de kosten direct verschuldigd.",
        "Betaalt u niet, dan wordt uw vordering overgedragen aan incassobureau Snel.",
        "Aan deze brief zijn geen kosten verbonden.",
        "Laatste herinnering: betaal op tijd en voorkom incassokosten.",
    ],
)
def test_conditional_announcements_are_not_charges(sentence: str) -> None:
    assert legal.check_message_text(sentence, debtor_kind="consumer") == []


def test_agency_named_with_a_real_arrangement() -> None:
    text = "Wij, incassobureau Snel, vragen namens Bakkerij Jansen om betaling."
    assert legal.check_message_text(text, debtor_kind="consumer")
    assert legal.check_message_text(text, debtor_kind="consumer", agency_arrangement=True) == []
    threat = "Wij, incassobureau Snel, leggen beslag."
    assert any("beslag" in p for p in legal.check_message_text(
        threat, debtor_kind="consumer", agency_arrangement=True))


def test_forbidden_content_is_data_with_sections() -> None:
    codes = [rule.code for rule in legal.FORBIDDEN_CONTENT]
    assert len(codes) == len(set(codes))
    assert all(rule.section.startswith("§7.3") for rule in legal.FORBIDDEN_CONTENT)
    assert {"other-costs", "threat-beslag", "threat-registration", "impersonation"} <= set(codes)


def test_check_message_text_refuses_unknown_kind() -> None:
    with pytest.raises(legal.InvalidChoiceError):
        legal.check_message_text(CLEAN, debtor_kind="b2b")


def test_each_problem_is_reported_once() -> None:
    problems = legal.check_message_text("Beslag. Beslag. Beslag.", debtor_kind="business")
    assert len(problems) == 1


# --------------------------------------------------------------------------- letter (§7.1)


def test_complete_consumer_letter_has_no_requirements_missing() -> None:
    assert legal.consumer_letter_requirements(
        CLEAN, bik_amount=D("185.18"), last_day=date(2026, 3, 24)) == []


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (D("40.00"), "€ 40,00"),
        (D("40.00"), "€\u00a040,00"),
        (D("40.00"), "€40,00"),
        (D("40.00"), "€ 40,-"),
        (D("1234.56"), "€ 1.234,56"),
        (D("1234.56"), "€\u202f1.234,56"),
        (D("1234.56"), "1.234,56 euro"),
        (D("6775.00"), format_currency(D("6775.00"), "EUR", locale="nl_NL")),
    ],
)
def test_bik_amount_written_the_dutch_way_is_found(amount: Decimal, written: str) -> None:
    text = CLEAN.replace("€ 185,18", written)
    assert legal.consumer_letter_requirements(
        text, bik_amount=amount, last_day=date(2026, 3, 24)) == []


@pytest.mark.parametrize("written", ["€ 185,19", "€ 1.185,18", "€ 185.18", "185,18"])
def test_wrong_or_non_dutch_bik_amount_is_missing(written: str) -> None:
    text = CLEAN.replace("€ 185,18", written)
    problems = legal.consumer_letter_requirements(
        text, bik_amount=D("185.18"), last_day=date(2026, 3, 24))
    assert len(problems) == 1 and "€\u00a0185,18" in problems[0] and "§7.1 nr. 8" in problems[0]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd",
          "binnen 14 dagen"), "goedgekeurde bewoording"),
        (("binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd",
          "binnen tien dagen vanaf de dag nadat deze brief bij u is bezorgd"),
         "goedgekeurde bewoording"),
        (("berekend volgens het Besluit vergoeding voor buitengerechtelijke incassokosten",
          "berekend volgens de wet"), "Besluit vergoeding"),
        (("draagt Bakkerij Jansen B.V. de vordering over aan een incassobureau en ", ""),
         "overdracht"),
        (("uiterlijk op dinsdag 24 maart 2026", "uiterlijk op maandag 23 maart 2026"),
         "te vroeg"),
        (("uiterlijk 24-03-2026", "vóór 24-03-2026"), "te vroeg"),  # vóór = by the 23rd
        (("uiterlijk 24-03-2026", "uiterlijk 20 mrt 2026"), "te vroeg"),
    ],
)
def test_consumer_letter_requirements_catch_gaps(change: tuple[str, str], needle: str) -> None:
    old, new = change
    assert old in CLEAN
    problems = legal.consumer_letter_requirements(
        CLEAN.replace(old, new), bik_amount=D("185.18"), last_day=date(2026, 3, 24))
    assert len(problems) == 1 and needle in problems[0], problems


def test_accepted_alternatives_for_the_term() -> None:
    for wording in ("binnen vijftien dagen nadat deze brief bij u is bezorgd",
                    "binnen 21 dagen vanaf de dag nadat deze brief bij u is bezorgd",
                    "binnen 14 dagen vanaf de dag nadat deze brief bij u is bezorgd"):
        text = CLEAN.replace(
            "binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd", wording)
        assert legal.consumer_letter_requirements(
            text, bik_amount=D("185.18"), last_day=date(2026, 3, 24)) == [], wording


def test_later_date_and_past_due_dates_are_fine() -> None:
    text = CLEAN.replace("uiterlijk 24-03-2026", "uiterlijk 31 maart 2026")
    assert legal.consumer_letter_requirements(
        text, bik_amount=D("185.18"), last_day=date(2026, 3, 24)) == []


def test_vat_increase_needs_the_declaration() -> None:
    text = CLEAN.replace("€ 185,18", "€ 224,07")  # 185.18 + 21% = 224.0678 -> 224.07
    assert legal.bik_costs(D("1234.56"), vat_increase=True) == D("224.07")
    problems = legal.consumer_letter_requirements(
        text, bik_amount=D("224.07"), last_day=date(2026, 3, 24), vat_increase=True)
    assert len(problems) == 1 and "BIK art. 2 lid 3" in problems[0]
    declared = text + ("Bakkerij Jansen B.V. kan de btw niet aftrekken; daarom zijn de "
                       "incassokosten verhoogd met 21% btw.")
    assert legal.consumer_letter_requirements(
        declared, bik_amount=D("224.07"), last_day=date(2026, 3, 24), vat_increase=True) == []
    # VAT on the costs without vat_increase is itself a problem (§2.2)
    problems = legal.consumer_letter_requirements(
        declared, bik_amount=D("224.07"), last_day=date(2026, 3, 24))
    assert len(problems) == 1 and "§2.2" in problems[0]


def test_consumer_letter_requirements_refuse_bad_amounts() -> None:
    with pytest.raises(legal.InvalidAmountError, match="whole cents"):
        legal.consumer_letter_requirements(CLEAN, bik_amount=D("40.001"),
                                           last_day=date(2026, 3, 24))
    with pytest.raises(legal.InvalidAmountError):
        legal.consumer_letter_requirements(CLEAN, bik_amount=D("0"), last_day=date(2026, 3, 24))


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1234.56", D("1234.56")), ("1.234,56", D("1234.56")), ("1234,56", D("1234.56")),
     ("1,234.56", D("1234.56")), ("€ 1.234.567,89", D("1234567.89")), ("100", D("100")),
     ("1.000.000", D("1000000")), ("0,5", D("0.5"))],
)
def test_parse_amount(typed: str, amount: Decimal) -> None:
    assert parse_amount(typed) == amount


def test_cli_bik_prints_amount_and_breakdown() -> None:
    result = CliRunner().invoke(legal_cli, ["bik", "1.234,56"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "BIK costs: € 185,18",
        "Principal: € 1.234,56",
        "  15% of € 1.234,56 = € 185,18",
        "Costs excl. VAT: € 185,18",
    ]


@pytest.mark.parametrize("typed", ["25000", "25000.00", "25.000,00", "25000,00"])
def test_cli_bik_accepts_each_notation(typed: str) -> None:
    result = CliRunner().invoke(legal_cli, ["bik", typed])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("BIK costs: € 1.025,00\n")
    assert "  1% of € 15.000,00 = € 150,00" in result.output


def test_cli_bik_minimum_maximum_and_vat() -> None:
    small = CliRunner().invoke(legal_cli, ["bik", "100"])
    assert "BIK costs: € 40,00" in small.output
    assert "Minimum applied: € 40,00 (BIK art. 2 lid 2)" in small.output
    big = CliRunner().invoke(legal_cli, ["bik", "1000000", "--vat-increase"])
    assert big.exit_code == 0, big.output
    assert big.output.startswith("BIK costs: € 8.197,75\n")
    assert "  0,5% of € 800.000,00 = € 4.000,00" in big.output
    assert "Maximum applied: € 6.775,00" in big.output
    assert "VAT 21%: € 1.422,75" in big.output


@pytest.mark.parametrize(
    ("typed", "message"),
    [("abc", "is not an amount"), ("0", "more than € 0,00"), ("1.234", "ambiguous"),
     ("12,345,6", "misplaced"), ("12.3456", "at most 2 decimals"),
     ("1,23456", "at most 2 decimals"),
     ("1.23.4,00", "misplaced")],
)
def test_cli_bik_bad_amount_exits_2(typed: str, message: str) -> None:
    result = CliRunner().invoke(legal_cli, ["bik", typed])
    assert result.exit_code == 2
    assert "Invalid value for 'AMOUNT'" in result.output and message in result.output


def test_cli_term_by_post() -> None:
    result = CliRunner().invoke(legal_cli, ["term", "2026-03-05"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Sent:               donderdag 5 maart 2026 (2026-03-05) by post"
    assert lines[1] == "Presumed delivery:  zaterdag 7 maart 2026 (2026-03-07)"
    assert lines[2] == ("Last day to pay:    maandag 23 maart 2026 (2026-03-23) "
                        "(moved to the next working day)")
    assert lines[3] == "Costs due from:     dinsdag 24 maart 2026 (2026-03-24)"
    assert lines[4] == (
        "Wording (nl): binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd "
        "(betaalt u uiterlijk op maandag 23 maart 2026, dan bent u in elk geval op tijd)")
    assert lines[5].startswith("Wording (en): within fourteen days")


def test_cli_term_by_email_across_easter() -> None:
    result = CliRunner().invoke(legal_cli, ["term", "2026-03-23", "--email"])
    assert result.exit_code == 0, result.output
    assert "Presumed delivery:  maandag 23 maart 2026 (2026-03-23)" in result.output
    assert "Last day to pay:    dinsdag 7 april 2026 (2026-04-07)" in result.output
    assert "Costs due from:     woensdag 8 april 2026 (2026-04-08)" in result.output
    assert "no presumption of receipt for e-mail" in result.output


@pytest.mark.parametrize(
    ("typed", "message"),
    [("2026-02-30", "not an existing date"), ("05-03-2026", "YYYY-MM-DD"),
     ("tomorrow", "YYYY-MM-DD")],
)
def test_cli_term_bad_date_exits_2(typed: str, message: str) -> None:
    result = CliRunner().invoke(legal_cli, ["term", typed])
    assert result.exit_code == 2 and message in result.output


def test_cli_group_is_named_legal() -> None:
    assert legal_cli.name == "legal"
    assert set(legal_cli.commands) == {"bik", "term"}
