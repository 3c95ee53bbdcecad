"""What a pre-incasso message must not say (legal-nl §7.3), as data read by the one engine in
:mod:`.wording`.

Two kinds of table: :data:`MEANINGS` says once what each rule forbids and why (section, the
Dutch problem message, which debtors it protects); :data:`PHRASINGS` says per language how
a text says it (the pattern, the sentences that excuse it, examples for the message).
:data:`FORBIDDEN_CONTENT` and :data:`FORBIDDEN_CONTENT_EN` are the two joined.

Heuristics: a clean result is no legal sign-off. The Dutch rules are applied to English
messages too, because a text in English may still carry Dutch phrases; the problems are in
Dutch, the language of the product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CONTENT_RULES",
    "FORBIDDEN_CONTENT",
    "FORBIDDEN_CONTENT_EN",
    "MEANINGS",
    "PAY_WORDS_EN",
    "PAY_WORDS_NL",
    "PHRASINGS",
    "ContentRule",
    "Meaning",
    "Phrasing",
]

_EVERY_DEBTOR = frozenset({"consumer", "business", "unknown"})
_CONSUMERISH = frozenset({"consumer", "unknown"})


@dataclass(frozen=True)
class ContentRule:
    """One thing a pre-incasso message must not say (legal-nl §7.3).

    ``pattern`` is searched per sentence of the normalised (lower-case) text; a sentence that
    matches ``unless`` (e.g. a conditional "als u niet betaalt …") is not a problem.
    ``kinds`` are the debtor kinds the rule applies to; ``agency_exempt`` rules are skipped when
    the sender really has an arrangement with the agency/bailiff it names (legal-nl §4.1, §7.3).
    """

    code: str
    section: str
    message: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None
    kinds: frozenset[str] = _EVERY_DEBTOR
    agency_exempt: bool = False


@dataclass(frozen=True)
class Meaning:
    """What a rule forbids, whatever the language: ``message`` (Dutch) may hold
    ``{examples}``, filled with the examples of the language that found the problem."""

    section: str
    message: str
    kinds: frozenset[str] = _EVERY_DEBTOR
    agency_exempt: bool = False


@dataclass(frozen=True)
class Phrasing:
    """How one language says what a rule forbids (see :class:`ContentRule`)."""

    pattern: re.Pattern[str]
    examples: str = ""
    unless: re.Pattern[str] | None = None


#: The list of legal-nl §7.3, in the order problems are reported.
MEANINGS: dict[str, Meaning] = {
    "other-costs": Meaning(
        "§7.3, §2.1, §4.5",
        "naast de BIK-vergoeding mogen geen andere kosten ({examples} e.d.) worden gevorderd, "
        "en in de pre-incassofase worden helemaal geen kosten in rekening gebracht",
    ),
    "costs-charged-now": Meaning(
        "§7.3, §1.2",
        "in de pre-incassofase worden geen kosten in rekening gebracht; kosten mogen alleen "
        "worden aangekondigd voor het geval niet binnen de termijn wordt betaald",
    ),
    "wrong-term-wording": Meaning(
        "§7.3, §1.2",
        "de termijn moet lopen vanaf de dag na ontvangst van de brief; formuleringen als "
        "{examples} maken de veertiendagenbrief ongeldig",
        kinds=_CONSUMERISH,
    ),
    "short-term": Meaning(
        "§7.3, §1.2",
        "een consument moet ten minste veertien dagen krijgen vanaf de dag na bezorging; een "
        "kortere of tegenstrijdige betaaltermijn maakt de brief ongeldig",
        kinds=_CONSUMERISH,
    ),
    "threat-beslag": Meaning(
        "§7.3, §4.1, §4.5",
        "dreigen met beslag ({examples}) mag niet: zonder executoriale titel is die maatregel "
        "nu niet mogelijk",
    ),
    "threat-registration": Meaning(
        "§7.3, §5",
        "dreigen met een BKR-registratie of een 'zwarte lijst' mag niet: die maatregel is niet "
        "beschikbaar",
    ),
    "threat-bailiff-visit": Meaning(
        "§7.3, §4.1",
        "een bezoek of optreden van de deurwaarder aankondigen mag niet: zonder titel kan de "
        "deurwaarder niets doen",
    ),
    "threat-court": Meaning(
        "§7.3, §4.5",
        "een dagvaarding of rechtszaak als zeker of op handen voorstellen mag niet zolang die "
        "niet is besloten; ook {examples} zet ontoelaatbaar druk",
    ),
    "official-act": Meaning(
        "§7.3, §4.1",
        "de brief mag niet lijken op een officiële akte of een stuk van rechter of deurwaarder "
        "({examples})",
    ),
    "impersonation": Meaning(
        "§7.3, §4.1, §4.5",
        "de afzender mag zich niet voordoen als incassobureau, deurwaarder of advocaat (of "
        "hun naam gebruiken) zonder een werkelijke afspraak met die partij",
        agency_exempt=True,
    ),
    "already-handed-over": Meaning(
        "§7.3",
        "de brief mag niet de indruk wekken dat de vordering al uit handen is gegeven; in de "
        "pre-incassofase vraagt de schuldeiser zelf om betaling, zonder kosten",
    ),
    "third-parties": Meaning(
        "§7.3, §4.4",
        "de schuld mag niet aan derden (werkgever, familie, buren) worden bekendgemaakt en "
        "contact met hen mag niet worden aangekondigd",
    ),
    "aggressive-language": Meaning(
        "§7.3, §4.2, §4.3",
        "agressieve, dreigende, intimiderende of beschamende taal is niet toegestaan",
    ),
}


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# ---- Dutch

_CONDITIONAL = re.compile(
    r"\b(als|indien|wanneer|zodra|mocht|pas|uitblijven"
    r"|niet\s+(op\s+tijd|tijdig|binnen|uiterlijk))\b"
    r"|\b(betaalt|betaal)\s+u\s+niet\b|\bblijft\s+(de\s+)?betaling\s+uit\b"
)
PAY_WORDS_NL = r"\b(betaa?l\w*|voldoe\w*|voldaan|overmaken|overmaakt|maak\b)"
_SHORT_NUMBER = (
    r"([1-9]|1[0-3]|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien)"
)
_SHORT_TERM = (
    r"binnen\s+" + _SHORT_NUMBER + r"\s+(dagen|dag|werkdagen|uur)|binnen\s+(een|één)\s+week"
)
_AGENCIES = (
    r"(incassobureau|incassokantoor|deurwaarderskantoor|gerechtsdeurwaarder|deurwaarder"
    r"|advocatenkantoor|advocaat)"
)

_DUTCH: dict[str, Phrasing] = {
    "other-costs": Phrasing(
        _rx(
            r"\b(administratie|dossier|herinnerings?|aanmanings?|kantoor|behandel|pre-?incasso)"
            r"\s*-?\s*kosten\b"
            r"|\b(administratie|dossier|herinnerings?|aanmanings?|kantoor|behandel)-\s+(en|of)\b"
        ),
        examples="administratie-, dossier-, herinnerings-, aanmaningskosten",
    ),
    "costs-charged-now": Phrasing(
        _rx(
            r"kosten\b.{0,60}?\b(nu|direct|reeds|al|hierbij|inmiddels|vanaf\s+vandaag)\b"
            r".{0,40}?\b(verschuldigd|in\s+rekening|berekend|toegevoegd|opgeteld|bijgeteld)"
            r"|\b(wij|we|ik)\s+(brengen|breng|rekenen|reken|berekenen|bereken)\b.{0,60}?kosten\b"
            r"|\b(inclusief|incl\.?|vermeerderd\s+met|verhoogd\s+met)\s+(\S+\s+){0,4}?"
            r"(incasso)?kosten\b"
        ),
        unless=_CONDITIONAL,
    ),
    "wrong-term-wording": Phrasing(
        _rx(
            r"\b(na|vanaf)\s+(de\s+dag\s+na\s+)?(heden|vandaag|dagtekening|verzending"
            r"|(de\s+)?verzenddatum|(de\s+)?briefdatum"
            r"|(de\s+)?datum\s+van\s+(deze|dit)\s+(brief|bericht|e-?mail))\b"
        ),
        examples="'na heden', 'na dagtekening' of 'na verzending'",
    ),
    "short-term": Phrasing(
        _rx(
            PAY_WORDS_NL + r".{0,60}?\b(per\s+omgaande|onmiddellijk|" + _SHORT_TERM + r")\b"
            r"|\b(per\s+omgaande|onmiddellijk|" + _SHORT_TERM + r")\b.{0,40}?" + PAY_WORDS_NL
        ),
    ),
    "threat-beslag": Phrasing(
        _rx(r"\b\w*beslag\w*\b"), examples="op loon, goederen of bankrekening"
    ),
    "threat-registration": Phrasing(
        _rx(r"\bbkr\b|\bkredietregistratie\b|\bzwarte\s+lijst\b")
    ),
    "threat-bailiff-visit": Phrasing(
        _rx(
            r"\b(gerechts)?deurwaarder\w*\b.{0,60}?\b(langs|aan\s+de\s+deur|bij\s+u\s+(thuis|aan)"
            r"|op\s+bezoek|huisbezoek)"
            r"|\b(langs|aan\s+de\s+deur|op\s+bezoek|huisbezoek)\b.{0,40}?\b(gerechts)?deurwaarder"
        ),
    ),
    "threat-court": Phrasing(
        _rx(
            r"\bu\s+(wordt|zal\s+worden)\s+(\w+\s+)?gedagvaard\b"
            r"|\b(wij|we)\s+(zullen|gaan)\s+u\s+(\w+\s+)?dagvaarden\b"
            r"|\bdagvaarding\s+(volgt|is\s+(al\s+)?(opgesteld|uitgebracht|klaargezet))\b"
            r"|\b(rechtszaak|gerechtelijke\s+procedure)\s+(volgt|wordt\s+gestart|is\s+gestart)\b"
            r"|\bzonder\s+(verdere|nadere)\s+(aankondiging|waarschuwing)\b"
        ),
        examples="'zonder verdere aankondiging'",
    ),
    "official-act": Phrasing(
        _rx(
            r"\bexploot\b|\bambtsedig\w*|\bbevel\s+tot\s+betaling\b"
            r"|\b(gerechtelijk|officieel|ambtelijk)e?\s+(bevel|stuk|aanschrijving|document)\b"
            r"|\bnamens\s+de\s+(rechter|rechtbank|kantonrechter|staat|overheid)\b"
            r"|\bvonnis\b|\bexecutoriale?\s+titel\b"
        ),
        examples="exploot, bevel, vonnis",
    ),
    "impersonation": Phrasing(
        _rx(
            r"\b(wij|we)\s*,?\s+(zijn\s+)?(als\s+)?(het\s+|een\s+|uw\s+)?" + _AGENCIES + r"\b"
            r"|\bnamens\s+(het\s+|ons\s+)?" + _AGENCIES + r"\b"
            r"|\bons\s+(incassobureau|incassokantoor|deurwaarderskantoor|advocatenkantoor)\b"
        ),
    ),
    "already-handed-over": Phrasing(
        _rx(
            r"\b(is|zijn|werd|werden|hebben|heeft)\s+(\w+\s+){0,3}?"
            r"(uit\s+handen\s+gegeven|overgedragen)\b"
        ),
        unless=_CONDITIONAL,
    ),
    "third-parties": Phrasing(_rx(r"\b(werkgever|familie|familieleden|buren|collega'?s)\b")),
    "aggressive-language": Phrasing(
        _rx(
            r"\b(wanbetaler\w*|oplichter\w*|oplichting|fraudeur\w*|fraude|crimineel|criminele"
            r"|schande\w*|schaam\w*|politie|aangifte)\b"
        ),
    ),
}

# ---- English

_CONDITIONAL_EN = re.compile(
    r"\b(if|when|unless|once|should|only|otherwise|not\s+(in\s+time|within|by))\b"
)
PAY_WORDS_EN = r"\b(pay\w*|transfer\w*|settle\w*)\b"
_SHORT_TERM_EN = (
    r"\b(immediately|at\s+once|straight\s+away|within\s+([1-9]|1[0-3]|one|two|three|four|five"
    r"|six|seven|eight|nine|ten|eleven|twelve|thirteen)\s+(days?|working\s+days?|hours?)"
    r"|within\s+(a|one)\s+week)\b"
)

_ENGLISH: dict[str, Phrasing] = {
    "other-costs": Phrasing(
        _rx(r"\b(administration|administrative|admin|handling|reminder|processing|file|dossier"
            r"|late\s+payment)\s+(fees?|costs?|charges?)\b"),
        examples="administration/handling/reminder fees",
    ),
    "costs-charged-now": Phrasing(
        _rx(
            r"\b(costs?|fees?|charges?)\b.{0,60}?\b(now|already|hereby|immediately|from\s+today)"
            r"\b.{0,40}?\b(due|charged|added|payable)\b"
            r"|\b(we|i)\s+(will\s+|have\s+|are\s+)?(charge|charging|charged|add|added|adding)\b"
            r".{0,60}?\b(costs?|fees?|charges?)\b"
            r"|\b(including|incl\.?|plus|increased\s+by)\s+(\S+\s+){0,4}?(collection\s+)?"
            r"(costs|fees)\b"
        ),
        unless=_CONDITIONAL_EN,
    ),
    "wrong-term-wording": Phrasing(
        _rx(
            r"\b(of|from|after)\s+(the\s+day\s+after\s+)?(the\s+)?(today|dispatch|sending"
            r"|(the\s+)?letter\s+date|date\s+of\s+(this|the)\s+(letter|message|e-?mail))\b"
        ),
        examples="'of the date of this letter', 'from today' of 'after sending'",
    ),
    "short-term": Phrasing(
        _rx(PAY_WORDS_EN + r".{0,60}?" + _SHORT_TERM_EN + r"|" + _SHORT_TERM_EN + r".{0,40}?"
            + PAY_WORDS_EN),
    ),
    "threat-beslag": Phrasing(
        _rx(r"\b(seiz\w*|garnish\w*|repossess\w*|distrain\w*|attachment\s+of\s+(your\s+)?"
            r"(wages|earnings|salary|goods|bank\s+account))\b"),
        examples="seizure, attachment of wages",
    ),
    "threat-registration": Phrasing(
        _rx(r"\bbkr\b|\bcredit\s+(register|registration|record|rating|reference)\b"
            r"|\bblack\s*list\w*\b"),
    ),
    "threat-bailiff-visit": Phrasing(
        _rx(
            r"\bbailiffs?\b.{0,60}?\b(visit|call\s+(on|at)|at\s+your\s+(door|home)"
            r"|come\s+(round|by|to))"
            r"|\b(visit|at\s+your\s+(door|home))\b.{0,40}?\bbailiffs?\b"
        ),
    ),
    "threat-court": Phrasing(
        _rx(
            r"\byou\s+(will|shall)\s+be\s+(\w+\s+)?(summoned|sued|taken\s+to\s+court)\b"
            r"|\b(we|i)\s+(will|shall|are\s+going\s+to)\s+(\w+\s+)?(sue|summon)\s+you\b"
            r"|\b(summons|legal\s+proceedings|court\s+case|lawsuit)\s+(will\s+follow"
            r"|(has|have)\s+been\s+(issued|prepared|filed|started))\b"
            r"|\bwithout\s+(any\s+)?(further|prior)\s+(notice|warning)\b"
        ),
        examples="'without further notice'",
    ),
    "official-act": Phrasing(
        _rx(
            r"\b(writ|court\s+order|enforcement\s+order|judg(e)?ment|official\s+(order|notice"
            r"|document|demand))\b"
            r"|\bon\s+behalf\s+of\s+the\s+(court|judge|state|government)\b"
        ),
        examples="writ, court order, judgment",
    ),
    "impersonation": Phrasing(
        _rx(
            r"\bwe\s*,?\s+(are\s+)?(as\s+)?(a|the|your)\s+(debt\s+)?(collection\s+agency"
            r"|debt\s+collectors?|bailiffs?|law\s+firm|lawyers?|solicitors?)\b"
            r"|\bon\s+behalf\s+of\s+(the|a|our)\s+(collection\s+agency|debt\s+collector"
            r"|bailiff|law\s+firm|lawyer|solicitor)\b"
        ),
    ),
    "already-handed-over": Phrasing(
        _rx(r"\b(has|have|was|were|is|are)\s+(\w+\s+){0,3}?(handed\s+over|transferred"
            r"|passed\s+on|referred)\b"),
        unless=_CONDITIONAL_EN,
    ),
    "third-parties": Phrasing(_rx(r"\b(employers?|family|relatives|neighbou?rs|colleagues)\b")),
    "aggressive-language": Phrasing(
        _rx(r"\b(fraud\w*|scam\w*|crook|criminal|shame\w*|ashamed|police|bad\s+payer"
            r"|deadbeat)\b"),
    ),
}

#: How each language says what :data:`MEANINGS` forbids.
PHRASINGS: dict[str, dict[str, Phrasing]] = {"nl": _DUTCH, "en": _ENGLISH}


def _rules(phrasings: dict[str, Phrasing]) -> tuple[ContentRule, ...]:
    return tuple(
        ContentRule(
            code,
            meaning.section,
            meaning.message.format(examples=phrasings[code].examples),
            phrasings[code].pattern,
            phrasings[code].unless,
            meaning.kinds,
            meaning.agency_exempt,
        )
        for code, meaning in MEANINGS.items()
        if code in phrasings
    )


#: legal-nl §7.3 for Dutch text.
FORBIDDEN_CONTENT: tuple[ContentRule, ...] = _rules(_DUTCH)
#: legal-nl §7.3 for English text: applied after :data:`FORBIDDEN_CONTENT` (see above).
FORBIDDEN_CONTENT_EN: tuple[ContentRule, ...] = _rules(_ENGLISH)

#: The rules checked per language of the message.
CONTENT_RULES: dict[str, tuple[ContentRule, ...]] = {
    "nl": FORBIDDEN_CONTENT,
    "en": FORBIDDEN_CONTENT + FORBIDDEN_CONTENT_EN,
}
