"""GET on an entity set: $select, $filter, $top, $skiptoken, $orderby and paging."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import flask

from providers.exact_online.emulator.common import (
    MANDATORY_FILTER_MESSAGE,
    SELECT_MESSAGE,
    ApiError,
    Row,
)
from providers.exact_online.emulator.odata import ODataFilter, parse_datetime_literal
from providers.exact_online.emulator.sets import EntitySet
from providers.exact_online.emulator_data import cents


class Queries:
    """Mixin: OData query handling and body parsing."""

    # ------------------------------------------------------------------ query handling

    @staticmethod
    def _select(s: EntitySet) -> list[str] | None:
        raw = flask.request.args.get("$select")
        if raw is None or raw.strip() in ("", "*"):
            return None
        names = [n.strip() for n in raw.split(",") if n.strip()]
        for n in names:
            if n not in s.fields:
                raise ApiError(
                    400, f"Could not find a property named '{n}' on type '{s.type_name}'."
                )
        return names

    def _query(self, div: Row, s: EntitySet) -> Row:
        args = flask.request.args
        select = self._select(s)
        raw_select = args.get("$select")
        top_raw = args.get("$top")
        top = None
        if top_raw is not None:
            if not top_raw.isdigit():
                raise ApiError(400, f"Invalid value '{top_raw}' for $top query option found.")
            top = int(top_raw)
        if s.select_required and select is None:
            rescued = s.kind == "normal" and top == 1 and raw_select is None
            if not rescued:
                self._violation("missing_select", f"GET {s.path} without an explicit $select")
                raise ApiError(400, SELECT_MESSAGE)
        flt = None
        raw_filter = args.get("$filter")
        if raw_filter is not None and raw_filter.strip():
            flt = ODataFilter(raw_filter, s.fields, s.type_name)
            if s.whitelist is not None:
                bad = sorted({f for f in flt.used if f not in s.whitelist})
                if bad:
                    self._violation("unsupported_filter", f"{s.path}: {', '.join(bad)}")
                    raise ApiError(
                        400, f"Filtering on these fields is not supported: {', '.join(bad)}"
                    )
        if s.mandatory and (flt is None or not set(flt.used) & set(s.mandatory)):
            self._violation("missing_mandatory_filter", f"GET {s.path} without an allowed $filter")
            raise ApiError(400, MANDATORY_FILTER_MESSAGE.format(fields=", ".join(s.mandatory)))
        page = self.bulk_page_size if s.kind in ("bulk", "sync") else self.page_size_default
        if top is not None:
            page = min(page, top)
        order_field = "Timestamp" if s.order == "Timestamp" else s.key
        skip = args.get("$skiptoken")
        after: Any = None
        if skip is not None:
            m = re.fullmatch(r"guid'([0-9a-fA-F-]{36})'|(\d+)L?", skip.strip())
            if not m:
                raise ApiError(400, f"Invalid value '{skip}' for $skiptoken query option found.")
            after = m.group(1).lower() if m.group(1) else int(m.group(2))
        rows = list(s.source(div))
        rows.sort(key=lambda r: r[order_field])
        out: list[Row] = []
        more = False
        for rec in rows:
            if after is not None and not rec[order_field] > after:
                continue
            row = s.render(div, rec)
            if flt is not None and not flt.matches(row):
                continue
            if len(out) >= page:
                more = True
                break
            out.append(row)
        body: Row = {"results": [self._with_meta(div, s, r, select) for r in out]}
        left = None if top is None else top - len(out)
        if more and out and (left is None or left > 0):
            last = out[-1][order_field]
            token = f"guid'{last}'" if isinstance(last, str) else f"{last}L"
            body["__next"] = self._next_url(token, left)
        return {"d": body}

    def _next_url(self, skiptoken: str, top_left: int | None) -> str:
        args = [
            (k, v)
            for k, v in parse_qsl(flask.request.query_string.decode(), keep_blank_values=True)
            if k not in ("$skiptoken", "$top")
        ]
        if top_left is not None:
            args.append(("$top", str(top_left)))
        args.append(("$skiptoken", skiptoken))
        query = urlencode(args, quote_via=quote, safe="$',()*:")
        return f"{self._base_url()}{flask.request.path}?{query}"

    def _single(self, div: Row, s: EntitySet, key_literal: str) -> Row:
        m = re.fullmatch(r"guid'([^']*)'|(\d+)L?", key_literal.strip())
        if not m:
            raise ApiError(400, f"Syntax error at position 0 in '{key_literal}'.")
        if m.group(1) is not None:
            try:
                key: Any = str(uuid.UUID(m.group(1)))
            except ValueError as exc:
                raise ApiError(400, f"Unrecognized 'Edm.Guid' literal '{key_literal}'.") from exc
        else:
            key = int(m.group(2))
        rec = next((r for r in s.source(div) if r.get(s.key) == key), None)
        if rec is None:
            raise ApiError(404, "Resource not found.")
        return rec

    def _json_body(self, type_name: str) -> Row:
        raw = flask.request.get_data()
        try:
            body = json.loads(raw or b"null", parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400, "Error processing request stream. JSON text specified is not valid."
            ) from exc
        if not isinstance(body, dict):
            raise ApiError(
                400,
                "Error processing request stream. The request should be a valid top-level "
                "resource object.",
            )
        return body

    @staticmethod
    def _unknown_props(body: Row, fields: Iterable[str], type_name: str) -> None:
        allowed = set(fields)
        for key in body:
            if key not in allowed and key != "__metadata":
                raise ApiError(
                    400,
                    f"The property '{key}' does not exist on type '{type_name}'. Make sure to "
                    "only use property names that are defined by the type.",
                )

    @staticmethod
    def _conversion_error(prop: str, target: str) -> ApiError:
        return ApiError(
            400,
            "Error processing request stream. Error encountered in converting the value from "
            f"request payload for property '{prop}' to type '{target}', which is the property's "
            "type. See inner exception for more detail.",
        )

    def _guid(self, body: Row, prop: str) -> str | None:
        value = body.get(prop)
        if value is None:
            return None
        try:
            return str(uuid.UUID(str(value)))
        except ValueError as exc:
            raise self._conversion_error(prop, "System.Guid") from exc

    def _date(self, body: Row, prop: str) -> date | None:
        value = body.get(prop)
        if value is None:
            return None
        text = str(value)
        m = re.fullmatch(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/", text)
        try:
            if m:
                return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).date()
            return parse_datetime_literal(text).date()
        except (ValueError, OverflowError) as exc:
            raise self._conversion_error(prop, "System.DateTime") from exc

    def _money(self, body: Row, prop: str) -> Decimal | None:
        value = body.get(prop)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self._conversion_error(prop, "System.Double")
        try:
            return cents(Decimal(value))
        except InvalidOperation as exc:
            raise self._conversion_error(prop, "System.Double") from exc

    def _int(self, body: Row, prop: str) -> int | None:
        value = body.get(prop)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self._conversion_error(prop, "System.Int32")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        raise self._conversion_error(prop, "System.Int32")
