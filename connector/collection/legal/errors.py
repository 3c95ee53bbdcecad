"""Typed errors of the legal rules: each says what input a rule cannot be applied to, and why."""

from __future__ import annotations

__all__ = [
    "HolidayDataError",
    "InvalidAmountError",
    "InvalidChoiceError",
    "LegalRuleError",
    "NaiveDatetimeError",
]


class LegalRuleError(ValueError):
    """Input a legal rule cannot be applied to; the message says what and why."""


class InvalidAmountError(LegalRuleError):
    """A money amount that is not a positive, finite ``Decimal`` where the rule needs one."""


class InvalidChoiceError(LegalRuleError):
    """An unknown option (debtor kind, delivery channel, language)."""


class NaiveDatetimeError(LegalRuleError):
    """A datetime without a time zone: contact windows are defined in Europe/Amsterdam time."""


class HolidayDataError(RuntimeError):
    """The ``holidays`` package returned a calendar that lacks a holiday of the Atw list."""
