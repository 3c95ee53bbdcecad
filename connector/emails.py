"""One rule for the e-mail addresses people sign in with, for the CLI and the web forms alike.

email-validator's syntax and domain rules, without a DNS look-up (an operator's address is a
sign-in name; whether mail reaches it is not ours to check at sign-in). Special-use domains such
as ``.test`` and ``.localhost`` are refused everywhere, so ``connector operator add`` never
creates an account the sign-in form would then reject.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

EMAIL_RULES = {"check_deliverability": False, "allow_smtputf8": True, "allow_empty_local": False}


class InvalidEmail(ValueError):
    """Not an address we accept; the message says why (in English, from email-validator)."""


def normalised_email(address: str) -> str:
    """The address in its normal form (domain in lower case); raises :class:`InvalidEmail`."""
    try:
        return validate_email((address or "").strip(), **EMAIL_RULES).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(f"{address!r} is not a valid e-mail address: {exc}") from None
