"""The languages a debtor can be written to in, as data: the Babel locale for dates and the
court-approved wording of the 14-day term (legal-nl §1.2, §7.1). Adding a language is adding
a row here and its tables in :mod:`.content_rules` and :mod:`.letter_rules`."""

from __future__ import annotations

from dataclasses import dataclass

from connector.collection.legal.errors import InvalidChoiceError

__all__ = ["LANGUAGES", "Language", "language"]


@dataclass(frozen=True)
class Language:
    """One language of the letters.

    ``term_phrase`` is the term as a phrase to follow "betalen"/"pay" (HR 2016 / NVI wording);
    ``term_guarantee`` adds the safe last day as a guarantee, never as the deadline itself
    (legal-nl §7.1 nr. 6); ``{day}`` is the date written out in ``locale``.
    """

    code: str
    locale: str
    term_phrase: str
    term_guarantee: str


LANGUAGES: dict[str, Language] = {
    "nl": Language(
        code="nl",
        locale="nl_NL",
        term_phrase="binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd",
        term_guarantee=" (betaalt u uiterlijk op {day}, dan bent u in elk geval op tijd)",
    ),
    "en": Language(
        code="en",
        locale="en_GB",
        term_phrase=(
            "within fourteen days from the day after this letter has been delivered to you"
        ),
        term_guarantee=" (if you pay no later than {day}, you are in time in any case)",
    ),
}


def language(code: object) -> Language:
    """The language ``code`` names; an unknown code is refused with the codes there are."""
    for candidate in LANGUAGES.values():
        if candidate.code == code:
            return candidate
    known = " or ".join(repr(known_code) for known_code in LANGUAGES)
    raise InvalidChoiceError(f"language must be {known}, got {code!r}")
