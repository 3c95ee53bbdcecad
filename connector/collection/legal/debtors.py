"""Who the debtor is, for the rules: a consumer gets the 14-day letter, a business does not,
and a debtor of unknown kind is treated as a consumer (legal-nl §1.6, §7.2)."""

from __future__ import annotations

from typing import Literal, cast

from connector.collection.legal.errors import InvalidChoiceError

__all__ = ["DebtorKind", "normalize_debtor_kind", "requires_fourteen_day_letter"]

DebtorKind = Literal["consumer", "business", "unknown"]


def normalize_debtor_kind(debtor_kind: str) -> DebtorKind:
    """'consumer', 'business' or 'unknown'; unknown is treated as a consumer (legal-nl §7.2)."""
    kind = str(debtor_kind).strip().lower()
    if kind not in ("consumer", "business", "unknown"):
        raise InvalidChoiceError(
            f"debtor_kind must be 'consumer', 'business' or 'unknown', got {debtor_kind!r}"
        )
    return cast(DebtorKind, kind)


def requires_fourteen_day_letter(debtor_kind: str) -> bool:
    """Only consumers need the 14-day letter (art. 6:96 lid 6 BW; legal-nl §1.6); when in doubt
    whether the debtor acted privately, treat as consumer (legal-nl §7.2)."""
    return normalize_debtor_kind(debtor_kind) != "business"
