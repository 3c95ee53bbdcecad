"""Moneybird's ``filter=`` parameter: periods, states, times and the silently ignored keys."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import UTC, date, datetime, timedelta
from typing import Any

from providers.moneybird.emulator.common import NAMED_PERIODS, STATES, ApiError, filter_error


class Filters:
    """Mixin: which invoices and contacts a filter selects."""

    # ------------------------------------------------------------------ filters

    def _period(self, value: str) -> tuple[date, date]:
        today = self._today()
        if value in NAMED_PERIODS:
            rel, unit = value.split("_")
            shift = {"this": 0, "prev": -1, "next": 1}[rel]
            if unit == "week":
                start = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
                return start, start + timedelta(days=6)
            if unit == "year":
                return date(today.year + shift, 1, 1), date(today.year + shift, 12, 31)
            months = 1 if unit == "month" else 3
            first_month = today.month if unit == "month" else (today.month - 1) // 3 * 3 + 1
            index = today.year * 12 + first_month - 1 + shift * months
            y, m = divmod(index, 12)
            end_index = index + months - 1
            ey, em = divmod(end_index, 12)
            return date(y, m + 1, 1), date(ey, em + 1, monthrange(ey, em + 1)[1])
        m = re.fullmatch(r"(\d{6}|\d{8})?\.\.(\d{6}|\d{8})?", value)
        if not m:
            raise filter_error("Period is not included in the list")
        if not m.group(1) or not m.group(2):
            raise ApiError(400, {"error": "Period must have both a start and end date"})
        try:
            s, e = m.group(1), m.group(2)
            start = date(int(s[:4]), int(s[4:6]), int(s[6:]) if len(s) == 8 else 1)
            ey, em = int(e[:4]), int(e[4:6])
            end = date(ey, em, int(e[6:]) if len(e) == 8 else monthrange(ey, em)[1])
        except ValueError as exc:
            raise filter_error("Period is not included in the list") from exc
        return start, end

    @staticmethod
    def _parse_time(value: str, label: str) -> datetime:
        text = value.strip().replace(" UTC", "+00:00")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise filter_error(f"{label} is not a valid time") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)

    @staticmethod
    def _parse_filter(raw: str | None) -> dict[str, list[str]]:
        terms: dict[str, list[str]] = {}
        for term in (raw or "").split(","):
            if ":" not in term:
                continue
            key, value = term.split(":", 1)
            terms[key.strip()] = [v for v in value.split("|")]
        return terms

    def _filter_invoices(self, adm: dict[str, Any], raw: str | None) -> list[dict[str, Any]]:
        # Schema default is "period:this_year"; an absent period always means this year (the
        # classic pitfall), except that state:draft alone lists drafts irrespective of date.
        terms = self._parse_filter(raw if raw is not None else "period:this_year")
        states = terms.get("state", ["all"])
        for s in states:
            if s not in (*STATES, "all"):
                raise filter_error("Status is not included in the list")
        state_set = None if "all" in states else set(states)
        period_value = terms.get("period", [None])[0]
        if period_value is None and state_set == {"draft"}:
            period = None
        else:
            period = self._period(period_value or "this_year")
        contact_ids = terms.get("contact_id")
        if contact_ids and not all(v.isdigit() for v in contact_ids):
            raise filter_error("Contact is not valid")
        references = terms.get("reference")
        created_after = (
            self._parse_time(terms["created_after"][0], "Created after")
            if "created_after" in terms
            else None
        )
        updated_after = (
            self._parse_time(terms["updated_after"][0], "Updated after")
            if "updated_after" in terms
            else None
        )
        workflow_ids = terms.get("workflow_id")
        recurring = terms.get("recurring_sales_invoice_id")
        today = self._today()
        out = []
        for inv in adm["invoices"].values():
            if state_set is not None and inv["state"] not in state_set:
                continue
            if period is not None:
                day = inv["invoice_date"] or today
                if not (period[0] <= day <= period[1]):
                    continue
            if contact_ids is not None and inv["contact_id"] not in contact_ids:
                continue
            if references is not None and inv["reference"] not in references:
                continue
            if workflow_ids is not None and inv["workflow_id"] not in workflow_ids:
                continue
            if recurring is not None and inv["recurring_sales_invoice_id"] not in recurring:
                continue
            if created_after is not None and not inv["created_at"] > created_after:
                continue
            if updated_after is not None and not inv["updated_at"] > updated_after:
                continue
            out.append(inv)
        return out

    def _filter_contacts(self, adm: dict[str, Any], raw: str | None) -> list[dict[str, Any]]:
        terms = self._parse_filter(raw)
        created_after = (
            self._parse_time(terms["created_after"][0], "Created after")
            if "created_after" in terms
            else None
        )
        updated_after = (
            self._parse_time(terms["updated_after"][0], "Updated after")
            if "updated_after" in terms
            else None
        )
        kind = terms.get("contact_type", ["all"])[0]
        out = []
        for c in adm["contacts"].values():
            if created_after is not None and not c["created_at"] > created_after:
                continue
            if updated_after is not None and not c["updated_at"] > updated_after:
                continue
            if kind == "company" and not c["company_name"]:
                continue
            if kind == "private_individual" and c["company_name"]:
                continue
            out.append(c)
        return out
