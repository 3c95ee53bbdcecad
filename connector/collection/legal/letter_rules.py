"""What a consumer 14-day letter must contain (legal-nl §7.1, §1.2), as data: one checklist
per language, read by the one engine in :mod:`.wording`.

Each field is the way that language says one item of the checklist; the problems the engine
reports are in Dutch whatever the letter's language, with a short English gloss where it
helps to know what was looked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal

from connector.collection.legal.content_rules import PAY_WORDS_EN, PAY_WORDS_NL
from connector.collection.legal.languages import LANGUAGES

__all__ = ["LETTER_RULES", "LetterRules", "dutch_amount", "english_amount"]


def dutch_amount(amount: Decimal) -> re.Pattern[str]:
    """``amount`` written the Dutch way: "€ 1.234,56", "1.234,56 euro", "€ 40,-"."""
    number = format_decimal(amount, format="#,##0.00", locale="nl_NL")
    alternatives = [re.escape(number)]
    if amount == amount.to_integral_value():
        alternatives.append(re.escape(number[:-3]) + r",-")
    body = "(?:" + "|".join(alternatives) + ")"
    return re.compile(r"(?<![\d.,])(?:€\s?" + body + r"|" + body + r"\s?(?:euro|eur)\b)(?![\d])")


def english_amount(amount: Decimal) -> re.Pattern[str]:
    """``amount`` written the English way: "€1,234.56", "EUR 1,234.56"."""
    number = format_decimal(amount, format="#,##0.00", locale="en_GB")
    return re.compile(r"(?<![\d.,])(?:€\s?|eur\s?)" + re.escape(number) + r"(?![\d])")


@dataclass(frozen=True)
class LetterRules:
    """The checklist of legal-nl §7.1 in one language (patterns run on normalised text).

    ``approved_term`` has groups ``n1`` (counted from the day after delivery: at least 14)
    and ``n2`` (counted from delivery: at least 15). ``deadline`` has groups ``kw`` and either
    ``d``/``month``/``y``, ``d2``/``m2``/``y2`` or ``y3``/``m3``/``d3``; a keyword in
    ``exclusive_keywords`` ("vóór", "before") makes the day before the last day to pay.
    """

    amounts: tuple[Callable[[Decimal], re.Pattern[str]], ...]
    costs_words: tuple[str, ...]
    costs_gloss: str
    decree_names: tuple[str, ...]
    decree_gloss: str
    approved_term: re.Pattern[str]
    number_words: dict[str, int]
    term_example: str
    pay: re.Pattern[str]
    past: re.Pattern[str]
    deadline: re.Pattern[str]
    months: dict[str, int]
    exclusive_keywords: frozenset[str]
    handover: re.Pattern[str]
    invoice_words: tuple[str, ...]
    vat_mention: re.Pattern[str]
    vat_declaration: re.Pattern[str]
    vat_on_costs: re.Pattern[str]


_MONTHS_NL = {
    "januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mrt": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "okt": 10, "nov": 11, "dec": 12,
}
_DATE_NL = (
    r"(?:(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\s+)?"
    r"(?P<d>\d{1,2})\s+(?P<month>" + "|".join(sorted(_MONTHS_NL, key=len, reverse=True))
    + r")\.?\s+(?P<y>\d{4})"
    r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})[-/.](?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})"
)

DUTCH = LetterRules(
    amounts=(dutch_amount,),
    costs_words=("incassokosten",),
    costs_gloss="",
    decree_names=("besluit vergoeding voor buitengerechtelijke incassokosten",),
    decree_gloss="",
    approved_term=re.compile(
        r"\bbinnen\s+(?P<n1>\d+|[a-z]+)\s+dagen\s+vanaf\s+de\s+dag\s+nadat\s+deze\s+brief\s+"
        r"bij\s+u\s+is\s+bezorgd"
        r"|\bbinnen\s+(?P<n2>\d+|[a-z]+)\s+dagen\s+nadat\s+deze\s+brief\s+bij\s+u\s+is\s+bezorgd"
    ),
    number_words={
        "veertien": 14, "vijftien": 15, "zestien": 16, "zeventien": 17, "achttien": 18,
        "negentien": 19, "twintig": 20, "eenentwintig": 21, "achtentwintig": 28, "dertig": 30,
    },
    term_example=f'bijvoorbeeld "{LANGUAGES["nl"].term_phrase}"',
    pay=re.compile(PAY_WORDS_NL),
    past=re.compile(r"\b(had|hadden|was|waren|vervaldatum|vervallen|verlopen|verstreken)\b"),
    deadline=re.compile(
        r"\b(?P<kw>uiterlijk(?:\s+op)?|tot\s+en\s+met|t/m|vóór|voor|tot)\s+(?:" + _DATE_NL + r")"
    ),
    months=_MONTHS_NL,
    exclusive_keywords=frozenset({"vóór", "voor", "tot"}),
    handover=re.compile(
        r"\b(incassobureau|incassobedrijf|deurwaarder\w*|uit\s+handen|"
        r"over\s+voor\s+incasso|overdragen|overgedragen)\b"
    ),
    invoice_words=("factuur", "facturen"),
    vat_mention=re.compile(r"\bbtw\b|\bomzetbelasting\b"),
    vat_declaration=re.compile(
        r"\b(niet|geen)\b.{0,60}?\b(aftrekken|aftrekbaar|verrekenen|terugvragen|"
        r"terugvorderen|btw-plichtig)"
    ),
    vat_on_costs=re.compile(
        r"incassokosten[^.]{0,80}\bbtw\b|\bbtw\b[^.]{0,80}incassokosten"
    ),
)

_MONTHS_EN = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}

ENGLISH = LetterRules(
    amounts=(dutch_amount, english_amount),
    costs_words=("collection costs",),
    costs_gloss=" ('collection costs')",
    decree_names=(
        "besluit vergoeding voor buitengerechtelijke incassokosten",
        "decree on extrajudicial collection costs",
    ),
    decree_gloss=" ('Decree on extrajudicial collection costs')",
    approved_term=re.compile(
        r"\bwithin\s+(?P<n1>\d+|[a-z]+)\s+days\s+from\s+the\s+day\s+after\s+(this|the)\s+"
        r"letter\s+(has\s+been|was|is)\s+delivered\s+to\s+you"
        r"|\bwithin\s+(?P<n2>\d+|[a-z]+)\s+days\s+(after|of)\s+(this|the)\s+letter\s+"
        r"(has\s+been|was|is)\s+delivered\s+to\s+you"
    ),
    number_words={
        "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
        "nineteen": 19, "twenty": 20, "twenty-one": 21, "twenty-eight": 28, "thirty": 30,
    },
    term_example=f'in het Engels "{LANGUAGES["en"].term_phrase}"',
    pay=re.compile(PAY_WORDS_EN),
    past=re.compile(r"\b(was|were|had|expired|fell\s+due|overdue)\b"),
    deadline=re.compile(
        r"\b(?P<kw>no\s+later\s+than|at\s+the\s+latest\s+on|by|until|before|on\s+or\s+before)\s+"
        r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday),?\s+)?"
        r"(?:(?P<d>\d{1,2})\s+(?P<month>" + "|".join(_MONTHS_EN) + r")\s+(?P<y>\d{4})"
        r"|(?P<d2>\d{1,2})[-/.](?P<m2>\d{1,2})[-/.](?P<y2>\d{4}))"
    ),
    months=_MONTHS_EN,
    exclusive_keywords=frozenset({"before"}),
    handover=re.compile(
        r"\b(collection\s+agency|debt\s+collect\w*|bailiff\w*|hand\w*\s+(\S+\s+)"
        r"{0,3}?over|transfer\w*\s+(\S+\s+){0,3}?to)\b"
    ),
    invoice_words=("invoice",),
    vat_mention=re.compile(r"\bvat\b|\bbtw\b"),
    vat_declaration=re.compile(
        r"\b(not|cannot|can't|unable)\b.{0,60}?\b(deduct\w*|reclaim\w*|recover\w*)"
    ),
    vat_on_costs=re.compile(
        r"collection\s+costs[^.]{0,80}\bvat\b|\bvat\b[^.]{0,80}collection\s+costs"
    ),
)

#: The checklist per language code of :data:`.languages.LANGUAGES`.
LETTER_RULES: dict[str, LetterRules] = {"nl": DUTCH, "en": ENGLISH}
