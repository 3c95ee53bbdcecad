"""OData ``$filter``: a small parser and evaluator for the expressions Exact accepts."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from providers.exact_online.emulator.common import (
    DBL,
    I32,
    I64,
    NAV,
    NUMERIC,
    ApiError,
    B,
    G,
    Row,
    S,
    T,
)
from providers.exact_online.emulator_data import day_start

# --------------------------------------------------------------------------- OData $filter

_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<guid>guid'[^']*')|(?P<dt>datetime'[^']*')|(?P<str>'(?:[^']|'')*')
    |(?P<num>-?\d+(?:\.\d+)?[LlMmDd]?)|(?P<lp>\()|(?P<rp>\))|(?P<comma>,)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*))""",
    re.X,
)
_CMP = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {
    "trim": S, "tolower": S, "toupper": S, "substringof": B, "startswith": B, "endswith": B,
    "year": I32, "month": I32, "day": I32,
}  # fmt: skip


def parse_datetime_literal(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ODataFilter:
    """A small OData v2 ``$filter`` parser/evaluator with WCF-style errors and type checks."""

    def __init__(self, text: str, fields: dict[str, str], type_name: str) -> None:
        self.text = text
        self.fields = fields
        self.type_name = type_name
        self.used: list[str] = []
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                raise ApiError(400, f"Syntax error at position {pos}.")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0
        self.ast = self._or()
        if self.i != len(self.tokens):
            raise ApiError(400, f"Syntax error at position {self.tokens[self.i][2]}.")
        if self._type(self.ast) not in (B, "null"):
            raise ApiError(400, "Expression of type 'Edm.Boolean' expected at position 0.")

    # parsing -----------------------------------------------------------------
    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _word(self, *words: str) -> bool:
        tok = self._peek()
        if tok and tok[0] == "name" and tok[1] in words:
            self.i += 1
            return True
        return False

    def _or(self) -> Any:
        node = self._and()
        while self._word("or"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> Any:
        node = self._not()
        while self._word("and"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> Any:
        if self._word("not"):
            return ("not", self._not())
        return self._cmp()

    def _cmp(self) -> Any:
        left = self._primary()
        tok = self._peek()
        if tok and tok[0] == "name" and tok[1] in _CMP:
            self.i += 1
            right = self._primary()
            lt, rt = self._type(left), self._type(right)
            if not self._compatible(lt, rt):
                raise ApiError(
                    400,
                    f"Operator '{tok[1]}' incompatible with operand types '{lt}' and '{rt}' "
                    f"at position {tok[2]}.",
                )
            return ("cmp", tok[1], left, right)
        return left

    def _primary(self) -> Any:
        tok = self._peek()
        if tok is None:
            raise ApiError(400, f"Expression expected at position {len(self.text)}.")
        kind, value, pos = tok
        self.i += 1
        if kind == "lp":
            node = self._or()
            if not self._peek() or self._peek()[0] != "rp":  # type: ignore[index]
                raise ApiError(400, f"')' or operator expected at position {len(self.text)}.")
            self.i += 1
            return node
        if kind == "guid":
            raw = value[5:-1]
            try:
                return ("lit", G, str(uuid.UUID(raw)))
            except ValueError as exc:
                raise ApiError(
                    400, f"Unrecognized 'Edm.Guid' literal '{value}' at '{pos}'."
                ) from exc
        if kind == "dt":
            try:
                return ("lit", T, parse_datetime_literal(value[9:-1]))
            except ValueError as exc:
                raise ApiError(
                    400, f"Unrecognized 'Edm.DateTime' literal '{value}' at '{pos}'."
                ) from exc
        if kind == "str":
            return ("lit", S, value[1:-1].replace("''", "'"))
        if kind == "num":
            suffix = value[-1].upper() if value[-1].isalpha() else ""
            digits = value[:-1] if suffix else value
            if suffix == "L" or (not suffix and "." not in digits):
                return ("lit", I64 if suffix == "L" else I32, int(digits))
            return ("lit", "Edm.Decimal" if suffix == "M" else DBL, Decimal(digits))
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", B, value == "true")
            if value == "null":
                return ("lit", "null", None)
            nxt = self._peek()
            if nxt and nxt[0] == "lp" and value in _FUNCS:
                self.i += 1
                args = [self._or()]
                while self._peek() and self._peek()[0] == "comma":  # type: ignore[index]
                    self.i += 1
                    args.append(self._or())
                if not self._peek() or self._peek()[0] != "rp":  # type: ignore[index]
                    raise ApiError(400, f"')' or ',' expected at position {len(self.text)}.")
                self.i += 1
                return ("call", value, args)
            if value not in self.fields or self.fields[value] == NAV:
                raise ApiError(
                    400,
                    f"No property '{value}' exists in type '{self.type_name}' at position {pos}.",
                )
            self.used.append(value)
            return ("field", value)
        raise ApiError(400, f"Syntax error at position {pos}.")

    def _type(self, node: Any) -> str:
        if node[0] == "lit":
            return node[1]
        if node[0] == "field":
            return self.fields[node[1]]
        if node[0] == "call":
            return _FUNCS[node[1]]
        return B

    @staticmethod
    def _compatible(a: str, b: str) -> bool:
        if "null" in (a, b) or a == b:
            return True
        return a in NUMERIC and b in NUMERIC

    # evaluation --------------------------------------------------------------
    def matches(self, row: Row) -> bool:
        """True when ``row`` (python-typed API values) satisfies the filter."""
        return bool(self._eval(self.ast, row))

    def _eval(self, node: Any, row: Row) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[2]
        if kind == "field":
            value = row.get(node[1])
            if isinstance(value, date) and not isinstance(value, datetime):
                return day_start(value)
            if isinstance(value, str) and self.fields[node[1]] == G:
                return value.lower()
            return value
        if kind == "and":
            return self._eval(node[1], row) and self._eval(node[2], row)
        if kind == "or":
            return self._eval(node[1], row) or self._eval(node[2], row)
        if kind == "not":
            return not self._eval(node[1], row)
        if kind == "call":
            args = [self._eval(a, row) for a in node[2]]
            name = node[1]
            if any(a is None for a in args):
                return None
            if name == "trim":
                return str(args[0]).strip()
            if name == "tolower":
                return str(args[0]).lower()
            if name == "toupper":
                return str(args[0]).upper()
            if name == "substringof":
                return str(args[0]) in str(args[1])
            if name == "startswith":
                return str(args[0]).startswith(str(args[1]))
            if name == "endswith":
                return str(args[0]).endswith(str(args[1]))
            return getattr(args[0], name)
        op, left, right = node[1], self._eval(node[2], row), self._eval(node[3], row)
        if op == "eq":
            return left == right
        if op == "ne":
            return left != right
        if left is None or right is None:
            return False
        try:
            return {
                "gt": left > right,
                "ge": left >= right,
                "lt": left < right,
                "le": left <= right,
            }[op]
        except TypeError:
            return False
