"""The ledger's mechanics: clock, recording, timestamps, bookings, deletions, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import flask

from providers.exact_online import emulator_data as data
from providers.exact_online.emulator.common import DELETED_TYPES, TOPIC_ENDPOINTS, Row
from providers.exact_online.emulator_data import cents, to_ms


class LedgerState:
    """Mixin: the clock, violations and changes to the in-memory ledger."""

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        """The emulator's clock (aware UTC): ``now`` callable, else real time × ``clock_speed``."""
        if self._now_fn is not None:
            return to_ms(self._now_fn().astimezone(UTC))
        real = datetime.now(UTC)
        if self.clock_speed == 1.0:
            return to_ms(real)
        return to_ms(self._emu_start + (real - self._real_start) * self.clock_speed)

    def _today(self) -> date:
        return self.now().date()

    # ------------------------------------------------------------------ recording

    def _violation(self, kind: str, detail: str) -> None:
        with self._lock:
            self.violations.append({"at": self.now(), "kind": kind, "detail": detail})

    def take_violations(self) -> list[dict[str, Any]]:
        """Return and clear recorded violations (for tests that provoke them on purpose)."""
        with self._lock:
            out = list(self.violations)
            self.violations.clear()
            return out

    def _token_event(self, outcome: str, **extra: Any) -> None:
        self.token_events.append({"at": self.now(), "outcome": outcome, **extra})

    def count_token_events(self, outcome: str) -> int:
        """How many token-endpoint calls ended in ``outcome``."""
        with self._lock:
            return sum(1 for e in self.token_events if e["outcome"] == outcome)

    # ------------------------------------------------------------------ base URL

    def _base_url(self) -> str:
        if self.public_url:
            return self.public_url
        if flask.has_request_context():
            return flask.request.host_url.rstrip("/")
        return "http://127.0.0.1"

    def _uri(self, code: int, path: str, key: str | int) -> str:
        literal = f"guid'{key}'" if isinstance(key, str) else str(key)
        return f"{self._base_url()}/api/v1/{code}/{path}({literal})"


    # ------------------------------------------------------------------ ledger mechanics

    def _div(self, code: int | str) -> Row:
        div = self._divs.get(int(code))
        if div is None:
            raise KeyError(f"unknown division {code}")
        return div

    def _touch(self, rec: Row) -> None:
        rec["Timestamp"] = self._ts.next()
        rec["Modified"] = self.now()

    def _find_item(self, div: Row, ref: Any) -> Row:
        text = str(ref).strip().lower()
        for it in div["items"].values():
            if text in (it["ID"], it["EntryID"], it["InvoiceID"]) or text in (
                str(it["InvoiceNumber"]),
                str(it["HID"]),
            ):
                return it
        raise KeyError(f"unknown item {ref}")

    def _apply_payment(self, div: Row, item: Row | None, amount: Decimal, on: date) -> Decimal:
        """Reduce the open amount (closing the item when settled); returns the amount applied."""
        if item is None or item["LineType"] != 20:
            return Decimal(0)
        open_amount = item["Total"] - item["Paid"]
        if open_amount <= 0:
            return Decimal(0)
        applied = min(amount, open_amount)
        item["Paid"] = cents(item["Paid"] + applied)
        item["LastPaymentDate"] = on
        if item["Paid"] >= item["Total"]:
            item["EndDate"] = on
        self._touch(item)
        return applied

    def _book_entry(self, div: Row, kind: str, journal: str, lines: list[Row], source: str) -> Row:
        """Store a bank/cash entry, match lines on Account + OurRef, fire the webhook."""
        now = self.now()
        div["entry_number"] += 1
        entry_id = data.guid(self._rng)
        entry = {
            "EntryID": entry_id,
            "EntryNumber": div["entry_number"],
            "JournalCode": journal,
            "kind": kind,
            "Date": lines[0]["Date"] if lines else now.date(),
            "Created": now,
            "Modified": now,
            "Timestamp": self._ts.next(),
            "source": source,
            "lines": [],
        }
        for n, ln in enumerate(lines, start=1):
            rec = dict(ln, ID=data.guid(self._rng), EntryID=entry_id, LineNumber=n)
            match = None
            if ln.get("Account") and ln.get("OurRef") is not None:
                match = next(
                    (
                        it
                        for it in div["items"].values()
                        if it["InvoiceNumber"] == ln["OurRef"]
                        and it["Account"] == ln["Account"]
                        and it["LineType"] == 20
                    ),
                    None,
                )
            rec["matched_item"] = match["ID"] if match else None
            rec["applied"] = self._apply_payment(div, match, ln["AmountFC"], ln["Date"])
            entry["lines"].append(rec)
        div["entries"][entry_id] = entry
        self._emit(div, kind, "Create", entry_id)
        return entry

    def _log_deleted(self, div: Row, entity: str, key: str) -> None:
        div["deleted"].append(
            {
                "ID": data.guid(self._rng),
                "Timestamp": self._ts.next(),
                "DeletedBy": self.user["UserID"],
                "DeletedDate": self.now(),
                "EntityKey": key,
                "EntityType": DELETED_TYPES[entity],
            }
        )

    # ------------------------------------------------------------------ webhooks

    def _emit(self, div: Row, topic: str, action: str, key: str) -> None:
        """Queue a signed notification for every subscription of the division on ``topic``."""
        subs = [w for w in div["webhooks"].values() if w["Topic"] == topic]
        if not subs:
            return
        now = self.now()
        endpoint = TOPIC_ENDPOINTS.get(topic, topic)
        content = {
            "Topic": topic,
            "ClientId": self.client_id,
            "Division": div["Code"],
            "Action": action,
            "Key": key,
            "ExactOnlineEndpoint": self._uri(div["Code"], endpoint, key),
            "EventCreatedOn": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}",
        }
        raw = json.dumps(content, separators=(",", ":"))
        digest = hmac.new(self.webhook_secret.encode(), raw.encode(), hashlib.sha256)
        body = ('{"Content":' + raw + ',"HashCode":"' + digest.hexdigest().upper() + '"}').encode()
        for sub in subs:
            delivery = {
                "url": sub["CallbackURL"],
                "subscription_id": sub["ID"],
                "division": div["Code"],
                "topic": topic,
                "action": action,
                "key": key,
                "body": body,
                "status": None,
                "attempts": 0,
            }
            self.deliveries.append(delivery)
            self.webhooks.push(
                sub["CallbackURL"], body, delivery, headers={"Content-Type": "application/json"}
            )
