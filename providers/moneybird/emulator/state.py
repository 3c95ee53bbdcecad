"""The ledger's mechanics: time, versions, invoice states, payments, events, webhook pushes."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from providers.moneybird import emulator_data as data
from providers.moneybird.emulator.common import Json, not_found


class LedgerState:
    """Mixin: changes to the in-memory ledger and the webhooks they fire."""

    # ------------------------------------------------------------------ time & ids

    def _now(self) -> datetime:
        return data.to_ms(self._now_fn().astimezone(UTC))

    def _today(self) -> date:
        return data.today_in_amsterdam(self._now())

    def _bump(self, rec: dict[str, Any]) -> None:
        now = self._now()
        rec["version"] = max(int(now.timestamp()), int(rec["version"]) + 1)
        rec["updated_at"] = now


    # ------------------------------------------------------------------ ledger mechanics

    def _adm(self, adm_id: str) -> dict[str, Any]:
        adm = self._adms.get(str(adm_id))
        if adm is None:
            raise KeyError(f"unknown administration {adm_id}")
        return adm

    def _inv(self, adm: dict[str, Any], invoice_id: str, key: str = "id") -> dict[str, Any]:
        inv = adm["invoices"].get(str(invoice_id))
        if inv is None:
            raise not_found(key)
        return inv

    def _refresh_states(self, adm: dict[str, Any]) -> None:
        """Time moves: open invoices become late (and back if a test moves time backwards)."""
        today = self._today()
        for inv in adm["invoices"].values():
            if inv["state"] in ("open", "late", "reminded"):
                if today <= inv["due_date"]:
                    new = "open"
                else:
                    new = "reminded" if (inv["reminder_count"] or 0) > 0 else "late"
                if new != inv["state"]:
                    self._changed(adm, inv, [])

    def _changed(self, adm: dict[str, Any], inv: dict[str, Any], actions: list[str]) -> None:
        """Record a change: bump version, derive state, append audit events and fire webhooks."""
        old = inv["state"]
        new = data.derive_state(inv, self._today())
        self._bump(inv)
        actions = list(actions)
        if new != old:
            inv["state"] = new
            if new == "paid":
                inv["paid_at"] = max(
                    (p["payment_date"] for p in inv["payments"]), default=self._today()
                )
            elif old == "paid":
                inv["paid_at"] = None
            actions.append(f"sales_invoice_state_changed_to_{new}")
        now = self._now()
        rendered = None
        for action in actions:
            inv["events"].append(data.new_event(adm, action, now, user_id=adm["api_user_id"]))
        for action in actions:
            rendered = rendered or self._render_invoice(adm, inv)
            self._emit(adm, action, "SalesInvoice", inv["id"], rendered, inv["state"])

    def _add_payment(
        self, adm: dict[str, Any], inv: dict[str, Any], price: Decimal, on: date, **kw: Any
    ) -> dict[str, Any]:
        now = self._now()
        p = data.new_payment(self._ids, adm, inv, price, on, now, user_id=adm["api_user_id"], **kw)
        inv["payments"].append(p)
        inv["events"].append(
            data.new_event(adm, "payment_registered", now, adm["api_user_id"], p["id"], "Payment")
        )
        self._emit(
            adm, "payment_registered", "Payment", p["id"], self._render_payment(adm, p), None
        )
        self._changed(adm, inv, [])
        return p

    def _delete_payment(self, adm: dict[str, Any], inv: dict[str, Any], payment_id: str) -> None:
        p = next((p for p in inv["payments"] if p["id"] == str(payment_id)), None)
        if p is None:
            raise not_found("id")
        inv["payments"].remove(p)
        inv["events"].append(
            data.new_event(
                adm, "payment_destroyed", self._now(), adm["api_user_id"], p["id"], "Payment"
            )
        )
        self._emit(adm, "payment_destroyed", "Payment", p["id"], self._render_payment(adm, p), None)
        self._changed(adm, inv, [])

    def _emit(
        self,
        adm: dict[str, Any],
        action: str,
        entity_type: str,
        entity_id: str,
        entity: Json,
        state: str | None,
    ) -> None:
        """Queue a push to every active webhook of the administration subscribed to ``action``."""
        for wh in adm["webhooks"].values():
            if wh["deactivated_at"] is not None or not self._subscribed(
                wh["enabled_events"], action
            ):
                continue
            payload = {
                "administration_id": adm["id"],
                "webhook_id": wh["id"],
                "webhook_token": wh["token"],
                "entity_type": entity_type,
                "entity_id": entity_id,
                "state": state,
                "action": action,
                "entity": entity,
            }
            delivery = {
                "url": wh["url"],
                "action": action,
                "status": None,
                "idempotency_key": str(uuid.uuid4()),
                "attempts": 0,
                "webhook_id": wh["id"],
                "entity_type": entity_type,
                "entity_id": entity_id,
                "administration_id": adm["id"],
            }
            self.deliveries.append(delivery)
            self.webhooks.push(
                wh["url"],
                json.dumps(payload).encode(),
                delivery,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "Moneybird-Webhooks (emulator)",
                    "Idempotency-Key": delivery["idempotency_key"],
                },
                sign=lambda body, secret=wh["secret"]: {
                    "Moneybird-Signature": self._sign(secret, body)
                },
                on_result=lambda status, text, wh=wh: wh.update(
                    last_http_status=status, last_http_body=text
                ),
            )

    @staticmethod
    def _subscribed(enabled: list[str], action: str) -> bool:
        if not enabled:  # legacy webhooks: only sales invoice state changes
            return action.startswith("sales_invoice_state_changed")
        return any(action == e or action.startswith(e + "_") for e in enabled)

    def _sign(self, secret: str, body: bytes) -> str:
        """``t=<epoch>,v1=<hmac-sha256 of "t." + body>``, computed at each attempt."""
        t = int(self._now_fn().timestamp())
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={t},v1={mac}"
