"""The control surface tests and demos drive the ledger with (not part of Moneybird's API)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from providers.moneybird import emulator_data as data
from providers.moneybird.emulator_data import CENT


class ControlSurface:
    """Mixin: look at and change the ledger as the creditor would in Moneybird."""

    def administration_ids(self) -> list[str]:
        """Ids of all seeded administrations, first one is the big one."""
        with self._lock:
            return list(self._adms)

    def invoice(self, adm: str, invoice_id: str) -> dict[str, Any]:
        """One invoice exactly as ``GET /sales_invoices/{id}`` returns it."""
        with self._lock:
            a = self._adm(adm)
            self._refresh_states(a)
            return self._render_invoice(a, self._inv(a, invoice_id))

    def invoices(self, adm: str) -> list[dict[str, Any]]:
        """All invoices of an administration (API JSON), any period."""
        with self._lock:
            a = self._adm(adm)
            self._refresh_states(a)
            return [self._render_invoice(a, i) for i in a["invoices"].values()]

    def invoice_states(self, adm: str) -> dict[str, str]:
        """Invoice id -> its ``state`` as the API shows it now, without rendering every invoice
        (what a test needs of 50,000 invoices; rendering them all costs seconds)."""
        with self._lock:
            a = self._adm(adm)
            self._refresh_states(a)
            return {i["id"]: i["state"] for i in a["invoices"].values()}

    def contacts(self, adm: str) -> list[dict[str, Any]]:
        """All contacts of an administration (API JSON)."""
        with self._lock:
            a = self._adm(adm)
            return [self._render_contact(a, c) for c in a["contacts"].values()]

    def notes(self, adm: str, invoice_id: str) -> list[dict[str, Any]]:
        """Notes on an invoice (API JSON)."""
        return self.invoice(adm, invoice_id)["notes"]

    def payments(self, adm: str, invoice_id: str) -> list[dict[str, Any]]:
        """Payments on an invoice (API JSON)."""
        return self.invoice(adm, invoice_id)["payments"]

    def add_payment(
        self, adm: str, invoice_id: str, amount: Decimal, on: date | None = None
    ) -> dict[str, Any]:
        """Register a payment as if the creditor booked it in Moneybird (fires webhooks)."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            fa = a["financial_accounts"][0]["id"]
            p = self._add_payment(
                a, inv, Decimal(amount), on or self._today(), financial_account_id=fa
            )
            return self._render_payment(a, p)

    def mark_paid(self, adm: str, invoice_id: str, on: date | None = None) -> dict[str, Any]:
        """Pay the full open amount; returns the invoice."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            unpaid = data.invoice_totals(inv)["unpaid"]
            if unpaid != 0:
                self.add_payment(adm, invoice_id, unpaid, on)
            return self._render_invoice(a, inv)

    def credit(self, adm: str, invoice_id: str) -> dict[str, Any]:
        """Full credit invoice; the original gets paid through a payment with credit_invoice_id."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            now, today = self._now(), self._today()
            lines = [
                dict(d, id=self._ids.next(), price=-d["price"], created_at=now, updated_at=now)
                for d in inv["details"]
            ]
            rng = data.random.Random(f"credit-{invoice_id}")
            credit = data.new_invoice(
                rng,
                self._ids,
                a,
                inv["contact_id"],
                today,
                today,
                now,
                lines,
                prices_are_incl_tax=inv["prices_are_incl_tax"],
                reference=f"Creditnota {inv['invoice_id'] or inv['id']}",
            )
            credit["original_sales_invoice_id"] = inv["id"]
            data.number_invoices([credit], a["number_counters"])
            a["invoices"][credit["id"]] = credit
            unpaid = data.invoice_totals(inv)["unpaid"]
            credit["state"] = "open"
            self._changed(
                a, credit, ["sales_invoice_created", "credit_invoice_created_from_original"]
            )
            if unpaid != 0:
                p1 = self._add_payment(a, inv, unpaid, today, credit_invoice_id=credit["id"])
                p2 = self._add_payment(a, credit, -unpaid, today, credit_invoice_id=credit["id"])
                p1["linked_payment_id"], p2["linked_payment_id"] = p2["id"], p1["id"]
            return self._render_invoice(a, credit)

    def mark_uncollectible(self, adm: str, invoice_id: str) -> dict[str, Any]:
        """Write the invoice off (state uncollectible)."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            inv["uncollectible"] = True
            inv["marked_uncollectible_on"] = self._today()
            self._changed(a, inv, ["sales_invoice_marked_as_uncollectible"])
            return self._render_invoice(a, inv)

    def delete_invoice(self, adm: str, invoice_id: str) -> None:
        """Remove the invoice (fires sales_invoice_destroyed with the last known entity)."""
        with self._lock:
            a = self._adm(adm)
            inv = self._inv(a, invoice_id)
            rendered = self._render_invoice(a, inv)
            del a["invoices"][inv["id"]]
            self._emit(
                a, "sales_invoice_destroyed", "SalesInvoice", inv["id"], rendered, inv["state"]
            )

    def update_contact(self, adm: str, contact_id: str, **fields: Any) -> dict[str, Any]:
        """Change contact fields (bumps its version, fires contact_changed)."""
        with self._lock:
            a = self._adm(adm)
            c = a["contacts"].get(str(contact_id))
            if c is None:
                raise KeyError(f"unknown contact {contact_id}")
            for key, value in fields.items():
                if key not in c or key.startswith("_") or key in ("id", "administration_id"):
                    raise KeyError(f"unknown contact field {key}")
                c[key] = value
            self._bump(c)
            c.setdefault("_events", []).append(
                data.new_event(a, "contact_changed", self._now(), a["api_user_id"])
            )
            rendered = self._render_contact(a, c)
            self._emit(a, "contact_changed", "Contact", c["id"], rendered, None)
            return rendered

    def create_invoice(
        self,
        adm: str,
        contact_id: str | None = None,
        amount: Decimal = Decimal("121.00"),
        due_date: date | None = None,
        *,
        invoice_date: date | None = None,
        description: str = "Dienstverlening",
        tax_rate: Decimal = Decimal("21"),
        reference: str | None = None,
        reminder_count: int = 0,
        draft: bool = False,
    ) -> dict[str, Any]:
        """A new sent invoice of ``amount`` incl. VAT (state derived from ``due_date``)."""
        with self._lock:
            a = self._adm(adm)
            today, now = self._today(), self._now()
            contact_id = str(contact_id) if contact_id else next(iter(a["contacts"]))
            if contact_id not in a["contacts"]:
                raise KeyError(f"unknown contact {contact_id}")
            inv_date = invoice_date or today
            due = due_date or inv_date + timedelta(days=14)
            rate = Decimal(tax_rate)
            line = {
                "id": self._ids.next(),
                "tax_rate_id": a["tax_rates"].get(str(rate.normalize()), a["tax_rates"]["21"]),
                "ledger_account_id": a["revenue_ledger_account_id"],
                "description": description,
                "amount_decimal": Decimal("1"),
                "price": Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP),
                "tax_rate": rate,
                "period": None,
                "row_order": 1,
                "created_at": now,
                "updated_at": now,
            }
            rng = data.random.Random(f"create-{line['id']}")
            inv = data.new_invoice(
                rng,
                self._ids,
                a,
                contact_id,
                None if draft else inv_date,
                due,
                now,
                [line],
                prices_are_incl_tax=True,
                reference=reference,
            )
            inv["reminder_count"] = reminder_count
            inv["version"] = 0
            if not draft:
                data.number_invoices([inv], a["number_counters"])
            a["invoices"][inv["id"]] = inv
            self._changed(a, inv, ["sales_invoice_created"])
            return self._render_invoice(a, inv)


    def count_calls(
        self,
        administration_id: str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> int:
        """How many /api/v2 requests matched (for rate-budget assertions)."""
        return self.call_log.count(
            method, path_contains,
            administration_id=None if administration_id is None else str(administration_id),
        )

    def reset_calls(self) -> None:
        """Forget recorded calls."""
        self.call_log.clear()
