"""The emulator's OData: ``$filter`` on ``modifiedOn`` and ``id``, ``$top`` and ``$skip``.

Enough of the grammar for what clients send SnelStart: comparisons joined by ``and``, with the
v4 literal (``modifiedOn ge 2025-03-01T10:15:30.0000000+00:00``) and the v3 ones
(``datetime'2025-03-01T10:15:30'``, ``datetimeoffset'…'``, ``guid'…'``), both of which the
reference names. Anything else is refused with a 400, as an unknown property would be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from providers.zones import AMSTERDAM

MAX_TOP = 500

_COMPARISON = re.compile(
    r"^\s*(?P<field>[A-Za-z]+)\s+(?P<op>eq|ne|gt|ge|lt|le)\s+(?P<value>\S.*?)\s*$")
_TYPED = re.compile(r"^(?P<kind>datetime|datetimeoffset|guid)'(?P<value>[^']*)'$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
}


class QueryError(ValueError):
    """A query option the emulator (and, we assume, SnelStart) refuses with a 400."""


def paging(args: Any) -> tuple[int, int]:
    """``$skip`` ≥ 0 and 1 ≤ ``$top`` ≤ 500 (default 500), as the spec bounds them."""
    try:
        skip = int(args.get("$skip", 0))
        top = int(args.get("$top", MAX_TOP))
    except ValueError:
        raise QueryError("$skip en $top moeten gehele getallen zijn") from None
    if skip < 0:
        raise QueryError("$skip moet 0 of groter zijn")
    if not 1 <= top <= MAX_TOP:
        raise QueryError(f"$top moet tussen 1 en {MAX_TOP} liggen")
    return skip, top


def parse_moment(raw: str) -> datetime:
    """A literal as aware UTC-comparable datetime; a bare one is Amsterdam wall-clock time."""
    text = raw.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = re.match(r"\d*", rest).group()  # type: ignore[union-attr]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(f"ongeldige datum in $filter: {raw[:40]}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=AMSTERDAM)


def _literal(field: str, raw: str) -> Any:
    typed = _TYPED.match(raw)
    kind, value = (typed["kind"], typed["value"]) if typed else (None, raw.strip("'"))
    if field == "modifiedOn":
        if kind == "guid":
            raise QueryError("modifiedOn vergelijkt met een datum")
        return parse_moment(value)
    if field == "id":
        if kind not in (None, "guid"):
            raise QueryError("id vergelijkt met een guid")
        return value.lower()
    raise QueryError(f"filteren op {field} wordt niet ondersteund")


Record = dict[str, Any]


def compile_filter(raw: str | None,
                   fields: Callable[[Record, str], Any]) -> Callable[[Record], bool]:
    """A predicate over stored records; ``fields(record, name)`` gives a comparable value."""
    if not raw or not raw.strip():
        return lambda record: True
    tests = []
    for part in re.split(r"\s+and\s+", raw.strip()):
        match = _COMPARISON.match(part.strip("() "))
        if match is None:
            raise QueryError("$filter niet begrepen")
        field, op = match["field"], match["op"]
        value = _literal(field, match["value"])
        tests.append((field, _OPS[op], value))

    def predicate(record: dict[str, Any]) -> bool:
        return all(test(fields(record, field), value) for field, test, value in tests)

    return predicate
