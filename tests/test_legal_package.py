"""The legal rules as a package: the public surface callers import, and tables that agree.

The Dutch and English rules are data read by one engine (connector.collection.legal.wording);
these tests keep the tables complete and consistent with each other, so adding a language or a
rule cannot leave one of them behind.
"""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connector.collection import legal
from connector.collection.legal.content_rules import CONTENT_RULES, MEANINGS, PHRASINGS
from connector.collection.legal.languages import LANGUAGES
from connector.collection.legal.letter_rules import LETTER_RULES

#: Every name callers used from the single module ``legal.py`` before it became a package.
PUBLIC_NAMES = (
    "AMSTERDAM", "BIK_MAXIMUM", "BIK_MINIMUM", "COMMERCIAL_MINIMUM", "DEFAULT_VAT_RATE",
    "DESIGNATED_DAYS", "FORBIDDEN_CONTENT", "FORBIDDEN_CONTENT_EN", "TERM_DAYS", "BikBand",
    "BikBreakdown", "BusinessCosts", "ContentRule", "HolidayDataError", "InvalidAmountError",
    "InvalidChoiceError", "LegalRuleError", "NaiveDatetimeError", "PaymentTerm", "atw_holidays",
    "bik_breakdown", "bik_costs", "bik_costs_for_invoices", "business_costs",
    "business_costs_due_from", "check_message_text", "combined_principal",
    "consumer_letter_requirements", "contact_allowed", "format_euro", "format_long_date",
    "is_contact_day", "is_postal_delivery_day", "is_public_holiday", "is_working_day",
    "may_contact", "next_contact_moment", "normalize_debtor_kind", "requires_fourteen_day_letter",
    "safe_term_wording", "term_for_letter", "BIK_BANDS", "CONTACT_FROM", "CONTACT_UNTIL",
    "MAX_CONTACTS_PER_DAY_CAP", "DEFAULT_MAX_CONTACTS_PER_DAY", "STATUTORY_PAYMENT_DAYS",
)

PACKAGE = Path(legal.__file__).parent
DATA_TABLES = {"content_rules.py", "letter_rules.py"}


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_names_still_import_from_the_package(name: str) -> None:
    module = importlib.import_module("connector.collection.legal")
    assert getattr(module, name) is not None
    assert name in legal.__all__


def test_every_language_has_every_table() -> None:
    assert set(LANGUAGES) == set(CONTENT_RULES) == set(LETTER_RULES) == set(PHRASINGS)
    for lang, phrasings in PHRASINGS.items():
        assert set(phrasings) == set(MEANINGS), f"{lang} lacks a phrasing of a §7.3 rule"


def test_english_messages_are_checked_against_the_dutch_rules_too() -> None:
    assert CONTENT_RULES["en"][: len(legal.FORBIDDEN_CONTENT)] == legal.FORBIDDEN_CONTENT
    assert [rule.code for rule in legal.FORBIDDEN_CONTENT] == list(MEANINGS)
    assert [rule.code for rule in legal.FORBIDDEN_CONTENT_EN] == list(MEANINGS)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_the_wording_we_write_passes_the_checks_we_apply(lang: str) -> None:
    """The term phrase of :func:`safe_term_wording` is the approved wording the letter
    checklist looks for, and the content rules find nothing wrong in it."""
    term = legal.term_for_letter(date(2026, 4, 2))
    wording = legal.safe_term_wording(term, lang)
    assert legal.check_message_text(wording, debtor_kind="consumer", lang=lang) == []
    problems = legal.consumer_letter_requirements(
        f"Pay / betaal {wording}.", bik_amount=Decimal("40.00"),
        last_day=term.last_day_to_pay, lang=lang,
    )
    assert problems, "a bare term lacks the other items of the checklist"
    assert not [p for p in problems if p.startswith("De termijn ontbreekt")], problems
    assert not [p for p in problems if "is te vroeg" in p], problems


def test_no_module_of_the_package_is_large() -> None:
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines())
             for path in PACKAGE.glob("*.py") if path.name not in DATA_TABLES}
    assert max(sizes.values()) <= 600, sizes
