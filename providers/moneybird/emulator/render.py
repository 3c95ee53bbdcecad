"""Records as Moneybird's API renders them (field order and formats of the OpenAPI document)."""

from __future__ import annotations

from datetime import date
from typing import Any

import flask

from providers.moneybird import emulator_data as data
from providers.moneybird.emulator_data import iso_date, iso_ts, money


class Rendering:
    """Mixin: the JSON shapes of administrations, contacts, invoices, payments, notes."""

    # ------------------------------------------------------------------ rendering

    @staticmethod
    def _adm_int(adm: dict[str, Any]) -> int:
        # The spec's examples show administration_id inside bodies as a bare integer (123).
        return int(adm["id"])

    def _base_url(self) -> str:
        if self.public_url:
            return self.public_url
        if flask.has_request_context():
            return flask.request.host_url.rstrip("/")
        return "http://127.0.0.1"

    def _render_note(self, adm: dict[str, Any], n: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": n["id"],
            "administration_id": self._adm_int(adm),
            "entity_id": n["entity_id"],
            "entity_type": n["entity_type"],
            "user_id": n["user_id"],
            "assignee_id": n["assignee_id"],
            "todo": n["todo"],
            "note": n["note"],
            "completed_at": iso_ts(n["completed_at"]),
            "completed_by_id": n["completed_by_id"],
            "todo_type": n["todo_type"],
            "data": n["data"],
            "created_at": iso_ts(n["created_at"]),
            "updated_at": iso_ts(n["updated_at"]),
        }

    def _render_event(self, adm: dict[str, Any], e: dict[str, Any]) -> dict[str, Any]:
        return {
            "administration_id": self._adm_int(adm),
            "user_id": e["user_id"],
            "action": e["action"],
            "link_entity_id": e["link_entity_id"],
            "link_entity_type": e["link_entity_type"],
            "data": e["data"],
            "created_at": iso_ts(e["created_at"]),
            "updated_at": iso_ts(e["updated_at"]),
        }

    def _render_contact(
        self, adm: dict[str, Any], c: dict[str, Any], full: bool = True
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in c.items():
            if key.startswith("_"):
                continue
            if key == "administration_id":
                value = self._adm_int(adm)
            elif key in ("created_at", "updated_at", "tax_number_validated_at"):
                value = iso_ts(value)
            elif key == "sepa_mandate_date":
                value = iso_date(value)
            elif key == "contact_people":
                value = [
                    dict(
                        p,
                        administration_id=self._adm_int(adm),
                        created_at=iso_ts(p["created_at"]),
                        updated_at=iso_ts(p["updated_at"]),
                    )
                    for p in value
                ]
            elif key == "notes":
                value = [self._render_note(adm, n) for n in value]
            out[key] = value
        # contact_response requires https://moneybird.<tld>/<id>/sales_invoices/<64 hex>/all
        out["sales_invoices_url"] = (
            f"https://moneybird.dev/{adm['id']}/sales_invoices/{c['_hash']}/all"
        )
        order = list(out)
        order.insert(order.index("version") + 1, order.pop(order.index("sales_invoices_url")))
        out = {k: out[k] for k in order}
        if full:
            out["events"] = [self._render_event(adm, e) for e in c.get("_events", [])]
        return out

    def _render_payment(self, adm: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": p["id"],
            "administration_id": self._adm_int(adm),
            "invoice_type": p["invoice_type"],
            "invoice_id": p["invoice_id"],
            "financial_account_id": p["financial_account_id"],
            "user_id": p["user_id"],
            "payment_transaction_id": p["payment_transaction_id"],
            "transaction_identifier": p["transaction_identifier"],
            "price": money(p["price"]),
            "price_base": money(p["price_base"]),
            "payment_date": iso_date(p["payment_date"]),
            "credit_invoice_id": p["credit_invoice_id"],
            "financial_mutation_id": p["financial_mutation_id"],
            "ledger_account_id": p["ledger_account_id"],
            "linked_payment_id": p["linked_payment_id"],
            "manual_payment_action": p["manual_payment_action"],
            "created_at": iso_ts(p["created_at"]),
            "updated_at": iso_ts(p["updated_at"]),
        }

    def _render_invoice(self, adm: dict[str, Any], inv: dict[str, Any]) -> dict[str, Any]:
        t = data.invoice_totals(inv)
        contact = adm["contacts"].get(inv["contact_id"])
        base = self._base_url()
        public = (
            f"{base}/{adm['id']}/external/{inv['_hash'][:32]}/{inv['_hash'][32:]}/sales_invoice"
        )
        details = []
        for d in inv["details"]:
            details.append(
                {
                    "id": d["id"],
                    "administration_id": self._adm_int(adm),
                    "tax_rate_id": d["tax_rate_id"],
                    "ledger_account_id": d["ledger_account_id"],
                    "project_id": None,
                    "product_id": None,
                    "amount": f"{data.money(d['amount_decimal']).removesuffix('.0')} x",
                    "amount_decimal": money(d["amount_decimal"]),
                    "description": d["description"],
                    "price": money(d["price"]),
                    "period": d["period"],
                    "row_order": d["row_order"],
                    "total_price_excl_tax_with_discount": money(d["_total_excl"]),
                    "total_price_excl_tax_with_discount_base": money(d["_total_excl"]),
                    "tax_report_reference": ["NL/1a" if d["tax_rate"] == 21 else "NL/1b"]
                    if d["tax_rate"]
                    else [],
                    "mandatory_tax_text": None,
                    "created_at": iso_ts(d["created_at"]),
                    "updated_at": iso_ts(d["updated_at"]),
                }
            )
        return {
            "id": inv["id"],
            "administration_id": self._adm_int(adm),
            "contact_id": inv["contact_id"],
            "contact": self._render_contact(adm, contact, full=False) if contact else None,
            "contact_person_id": inv["contact_person_id"],
            "contact_person": None,
            "invoice_id": inv["invoice_id"],
            "recurring_sales_invoice_id": inv["recurring_sales_invoice_id"],
            "subscription_id": inv["subscription_id"],
            "workflow_id": inv["workflow_id"],
            "document_style_id": inv["document_style_id"],
            "identity_id": inv["identity_id"],
            "draft_id": inv["draft_id"],
            "state": inv["state"],
            "invoice_date": iso_date(inv["invoice_date"]),
            "due_date": iso_date(inv["due_date"]),
            "payment_conditions": inv["payment_conditions"],
            "payment_reference": inv["payment_reference"],
            "short_payment_reference": inv["short_payment_reference"],
            "reference": inv["reference"],
            "language": inv["language"],
            "currency": inv["currency"],
            "discount": money(inv["discount"]),
            "original_sales_invoice_id": inv["original_sales_invoice_id"],
            "paused": inv["paused"],
            "paid_at": iso_date(inv["paid_at"]),
            "sent_at": iso_date(inv["sent_at"]),
            "created_at": iso_ts(inv["created_at"]),
            "updated_at": iso_ts(inv["updated_at"]),
            "public_view_code": inv["public_view_code"],
            "public_view_code_expires_at": iso_ts(inv["public_view_code_expires_at"]),
            "version": inv["version"],
            "details": details,
            "payments": [self._render_payment(adm, p) for p in inv["payments"]],
            "total_paid": money(t["paid"]),
            "total_unpaid": money(t["unpaid"]),
            "total_unpaid_base": money(t["unpaid"]),
            "prices_are_incl_tax": inv["prices_are_incl_tax"],
            "total_price_excl_tax": money(t["excl"]),
            "total_price_excl_tax_base": money(t["excl"]),
            "total_price_incl_tax": money(t["incl"]),
            "total_price_incl_tax_base": money(t["incl"]),
            "total_discount": "0.0",
            "marked_dubious_on": iso_date(inv["marked_dubious_on"]),
            "marked_uncollectible_on": iso_date(inv["marked_uncollectible_on"]),
            "reminder_count": inv["reminder_count"],
            "next_reminder": iso_date(inv["next_reminder"]),
            "original_estimate_id": inv["original_estimate_id"],
            "url": public,
            "payment_url": public,
            "custom_fields": inv["custom_fields"],
            "notes": [self._render_note(adm, n) for n in inv["notes"]],
            "attachments": [],
            "events": [self._render_event(adm, e) for e in inv["events"]],
            "tax_totals": [
                {
                    "tax_rate_id": rate_id,
                    "taxable_amount": money(v[0]),
                    "taxable_amount_base": money(v[0]),
                    "tax_amount": money(v[1]),
                    "tax_amount_base": money(v[1]),
                }
                for rate_id, v in t["tax_totals"].items()
            ],
            "time_entries": [],
        }

    def _render_webhook(
        self, adm: dict[str, Any], w: dict[str, Any], secret: bool = False
    ) -> dict[str, Any]:
        out = {
            "id": w["id"],
            "administration_id": self._adm_int(adm),
            "url": w["url"],
            "enabled_events": list(w["enabled_events"]),
            "last_http_status": w["last_http_status"],
            "last_http_body": w["last_http_body"],
            "token": w["token"],
        }
        if secret:  # the signing secret is only ever shown in the create response
            out["secret"] = w["secret"]
        out["deactivated_at"] = iso_ts(w["deactivated_at"])
        return out

    def _render_administration(self, adm: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": adm["id"],
            "name": adm["name"],
            "language": adm["language"],
            "currency": adm["currency"],
            "country": adm["country"],
            "time_zone": adm["time_zone"],
            "access": adm["access"],
            "suspended": adm["suspended"],
            "period_locked_until": iso_date(adm["period_locked_until"]),
            "period_start_date": iso_date(date(self._today().year, 1, 1)),
        }

    def _render_financial_account(self, adm: dict[str, Any], fa: dict[str, Any]) -> dict[str, Any]:
        return dict(
            fa,
            administration_id=self._adm_int(adm),
            created_at=iso_ts(fa["created_at"]),
            updated_at=iso_ts(fa["updated_at"]),
        )
