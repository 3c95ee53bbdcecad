"""How a message is read by the wording checks: dashes and odd spaces made plain, case folded,
and split into sentences (a rule's "unless" applies per sentence)."""

from __future__ import annotations

import re

__all__ = ["normalise", "sentences"]

_SPACES = re.compile(r"[\s\u00a0\u202f\u2007]+")
_DASHES = re.compile(r"[\u2010\u2011\u2012\u2013\u2014]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def normalise(text: str) -> str:
    """The whole text on one line, lower case, with plain spaces and hyphens."""
    return _SPACES.sub(" ", _DASHES.sub("-", text)).strip().casefold()


def sentences(text: str) -> list[str]:
    """The normalised sentences of ``text``; a line break always ends a sentence."""
    lines = text.replace("\r", "").split("\n")
    parts: list[str] = []
    for line in lines:
        parts.extend(_SENTENCE_END.split(_SPACES.sub(" ", _DASHES.sub("-", line)).casefold()))
    return [part.strip() for part in parts if part.strip()]
