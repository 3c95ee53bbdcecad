"""The one wording engine: what a message must not say (legal-nl §7.3) and what a consumer
14-day letter must say (legal-nl §7.1, §1.2), for every language in the tables of
:mod:`.content_rules` and :mod:`.letter_rules`.

The problems are in Dutch, the language of the product, whatever the language of the text,
and each cites the legal-nl.md sections it rests on (docs/legal-nl.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from connector.collection.legal.content_rules import CONTENT_RULES
from connector.collection.legal.debtors import normalize_debtor_kind
from connector.collection.legal.errors import InvalidAmountError, LegalRuleError
from connector.collection.legal.formatting import format_euro, format_long_date
from connector.collection.legal.inputs import CENT, money, plain_date
from connector.collection.legal.languages import LANGUAGES, language
from connector.collection.legal.letter_rules import LETTER_RULES, LetterRules
from connector.collection.legal.text import normalise, sentences
from connector.formatting import short_day, written_date

__all__ = ["check_message_text", "consumer_letter_requirements"]


def check_message_text(
    text: str, *, debtor_kind: str, agency_arrangement: bool = False, lang: str = "nl"
) -> list[str]:
    """Problems (in Dutch) with what a pre-incasso message says, per legal-nl §7.3.

    The rules are :data:`.content_rules.CONTENT_RULES`; term rules apply to consumers (and
    unknown debtors, legal-nl §7.2) only, because a business gets no 14-day term (legal-nl
    §1.6). ``agency_arrangement`` = the sender really acts with the agency/bailiff it names
    (legal-nl §4.1), which allows naming it. Not covered by text checks: payment account,
    cost amount (see :func:`consumer_letter_requirements`), B1 language level, send time.
    ``lang="en"`` adds the English rules to the Dutch ones (a text in English may still
    carry Dutch phrases); the problems stay in Dutch, the language of the product.
    """
    kind = normalize_debtor_kind(debtor_kind)
    rules = CONTENT_RULES[language(lang).code]
    if not isinstance(text, str):
        raise LegalRuleError(f"text must be a str, got {type(text).__name__}")
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for sentence in sentences(text):
        for rule in rules:
            if kind not in rule.kinds or (rule.agency_exempt and agency_arrangement):
                continue
            if rule.unless is not None and rule.unless.search(sentence):
                continue
            for match in rule.pattern.finditer(sentence):
                fragment = match.group(0).strip()
                if (rule.code, fragment) in seen:
                    continue
                seen.add((rule.code, fragment))
                problems.append(f'"{fragment}": {rule.message} (legal-nl.md {rule.section}).')
    return problems


def consumer_letter_requirements(
    text: str,
    *,
    bik_amount: Decimal,
    last_day: date,
    vat_increase: bool = False,
    lang: str = "nl",
    costs_due_from: date | None = None,
) -> list[str]:
    """What a consumer 14-day letter lacks (legal-nl §7.1, §1.2), in Dutch; empty = complete.

    ``bik_amount`` is the amount to be charged as stated (VAT included when ``vat_increase``),
    which must appear exactly, written the Dutch way ("€ 1.234,56", babel's non-breaking
    spaces accepted). ``last_day`` is :attr:`PaymentTerm.last_day_to_pay`: a deadline date in
    the letter earlier than it makes the letter invalid (legal-nl §1.2, §7.1 nr. 6). Use
    together with :func:`check_message_text`.

    ``lang="en"`` checks a letter in English against the same checklist (English wording of the
    term, "collection costs", the Decree named in English or Dutch; amounts written the Dutch
    or the English way). With ``costs_due_from`` the date from which the costs are due must be
    stated too (as dd-mm-yyyy or written out). Problems are always in Dutch.
    """
    if not isinstance(text, str):
        raise LegalRuleError(f"text must be a str, got {type(text).__name__}")
    bik_amount = money(bik_amount, "bik_amount")
    if bik_amount != bik_amount.quantize(CENT):
        raise InvalidAmountError(f"bik_amount must be in whole cents, got {bik_amount}")
    last_day = plain_date(last_day, "last_day")
    rules = LETTER_RULES[language(lang).code]
    problems = _missing_items(rules, text, bik_amount, last_day, vat_increase)
    if costs_due_from is not None and not _mentions_date(text, costs_due_from):
        problems.append(
            "De datum vanaf wanneer de incassokosten verschuldigd zijn "
            f"({short_day(costs_due_from)}) ontbreekt (legal-nl.md §1.3, §7.1 nr. 7)."
        )
    return problems


def _missing_items(
    rules: LetterRules, text: str, bik_amount: Decimal, last_day: date, vat_increase: bool
) -> list[str]:
    """The checklist of legal-nl §7.1 run with one language's :class:`LetterRules`."""
    normal = normalise(text)
    problems: list[str] = []
    if not any(pattern(bik_amount).search(normal) for pattern in rules.amounts):
        problems.append(
            f"Het exacte bedrag aan incassokosten ({format_euro(bik_amount)}) ontbreekt "
            "(legal-nl.md §1.2 nr. 3, §7.1 nr. 8)."
        )
    if not any(word in normal for word in rules.costs_words):
        problems.append(
            f"Er staat niet dat er (buitengerechtelijke) incassokosten{rules.costs_gloss} "
            "verschuldigd worden als niet op tijd wordt betaald (legal-nl.md §1.2 nr. 3, "
            "§7.1 nr. 7-8)."
        )
    if not any(name in normal for name in rules.decree_names):
        problems.append(
            "Vermeld dat de kosten zijn berekend volgens het Besluit vergoeding voor "
            f"buitengerechtelijke incassokosten{rules.decree_gloss} "
            "(legal-nl.md §7.1 nr. 8, §1.2 nr. 4)."
        )
    if not _states_approved_term(rules, normal):
        problems.append(
            f"De termijn ontbreekt in de goedgekeurde bewoording, {rules.term_example} "
            "(legal-nl.md §1.2 nr. 2, §7.1 nr. 6)."
        )
    for sentence in sentences(text):
        if rules.past.search(sentence) or not rules.pay.search(sentence):
            continue
        for day, fragment in _deadline_dates(rules, sentence):
            if day < last_day:
                problems.append(
                    f'De datum in "{fragment}" is te vroeg: betalen moet mogen tot en met '
                    f"{format_long_date(last_day)} (legal-nl.md §1.2, §1.3, §7.1 nr. 6)."
                )
    if not rules.handover.search(normal):
        problems.append(
            "Er staat niet wat er gebeurt als niet wordt betaald (overdracht aan een "
            "incassobureau of deurwaarder) (legal-nl.md §1.2 nr. 3, §7.1 nr. 7)."
        )
    if not any(word in normal for word in rules.invoice_words):
        problems.append(
            "De factuur of facturen (nummer, datum, vervaldatum) worden niet genoemd "
            "(legal-nl.md §7.1 nr. 4-5)."
        )
    mentions_vat = rules.vat_mention.search(normal) is not None
    if vat_increase:
        if not (mentions_vat and rules.vat_declaration.search(normal)):
            problems.append(
                "De kosten zijn verhoogd met btw, maar de verklaring ontbreekt dat de schuldeiser "
                "de btw niet kan aftrekken (BIK art. 2 lid 3; legal-nl.md §2.2, §7.1 nr. 9)."
            )
    elif mentions_vat and rules.vat_on_costs.search(normal):
        problems.append(
            "Btw op de incassokosten mag alleen met de verklaring dat de schuldeiser de btw niet "
            "kan aftrekken (legal-nl.md §2.2, §7.3); zet vat_increase als dat zo is."
        )
    return problems


def _states_approved_term(rules: LetterRules, normal: str) -> bool:
    """The approved wording with at least fourteen days after the day of delivery (legal-nl
    §1.2 nr. 2): "n1" counts from the day after delivery, "n2" from delivery itself."""
    for match in rules.approved_term.finditer(normal):
        if (_number(rules, match.group("n1")) >= 14
                or _number(rules, match.group("n2")) >= 15):
            return True
    return False


def _number(rules: LetterRules, word: str | None) -> int:
    if word is None:
        return 0
    return _digits(word) if word.isdigit() else rules.number_words.get(word, 0)


def _digits(word: str) -> int:
    """A number of days as written; a very long one is just "a lot" (int() of thousands of
    digits raises, and "²".isdigit() is True but is no number)."""
    if not word.isdecimal():
        return 0
    return int(word) if len(word) < 7 else 10**6


def _deadline_dates(rules: LetterRules, sentence: str) -> list[tuple[date, str]]:
    """Dates stated as the payment deadline, as the last day on which paying is on time."""
    found: list[tuple[date, str]] = []
    for match in rules.deadline.finditer(sentence):
        parts = match.groupdict()
        try:
            if parts.get("d"):
                day = date(int(parts["y"]), rules.months[parts["month"]], int(parts["d"]))
            elif parts.get("d2"):
                day = date(int(parts["y2"]), int(parts["m2"]), int(parts["d2"]))
            elif parts.get("y3"):
                day = date(int(parts["y3"]), int(parts["m3"]), int(parts["d3"]))
            else:
                continue
        except ValueError:
            continue
        if match.group("kw") in rules.exclusive_keywords:  # the day before is the last day
            day -= timedelta(days=1)
        found.append((day, match.group(0)))
    return found


def _mentions_date(text: str, day: date) -> bool:
    normal = normalise(text)
    written = {short_day(day), f"{day.day}-{day.month}-{day.year}", day.isoformat()}
    written |= {written_date(day, code).casefold() for code in LANGUAGES}
    return any(w in normal for w in written)
