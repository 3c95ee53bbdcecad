"""HTML views for people: the emulator's own pages and the invoice's public page."""

from __future__ import annotations

import contextlib
import html
from typing import Any

import flask

from providers.emulator_kit.html import html_page
from providers.moneybird import emulator_data as data
from providers.moneybird.emulator.common import STATE_NL, ApiError, contact_name
from providers.moneybird.emulator_data import iso_date, money


class Views:
    """Mixin: /_emulator/ pages and the public invoice page with its pay button."""

    # ------------------------------------------------------------------ HTML view for people

    def view_index(self) -> str:
        """List administrations."""
        with self._lock:
            rows = "".join(
                f'<li><a href="/_emulator/{a["id"]}">{html.escape(a["name"])}</a> '
                f"({len(a['invoices'])} facturen, {len(a['contacts'])} contacten) – "
                f"id <code>{a['id']}</code></li>"
                for a in self._adms.values()
            )
        body = (
            "<h1>Moneybird-emulator</h1>"
            f"<p>Client id: <code>{html.escape(self.client_id)}</code></p>"
            f"<ul>{rows}</ul>"
        )
        return html_page("Moneybird-emulator", body)

    def view_administration(self, adm_id: str) -> flask.Response | str:
        """List invoices of one administration."""
        with self._lock:
            adm = self._adms.get(adm_id)
            if adm is None:
                flask.abort(404)
            self._refresh_states(adm)
            invs = sorted(
                adm["invoices"].values(),
                key=lambda i: (i["invoice_date"] or self._today(), i["id"]),
                reverse=True,
            )
            rows = []
            for inv in invs:
                c = adm["contacts"].get(inv["contact_id"], {})
                t = data.invoice_totals(inv)
                rows.append(
                    f"<tr><td><a href='/_emulator/{adm_id}/sales_invoices/{inv['id']}'>"
                    f"{html.escape(inv['invoice_id'] or 'concept')}</a></td>"
                    f"<td>{html.escape(contact_name(c))}</td>"
                    f"<td>{iso_date(inv['invoice_date']) or ''}</td>"
                    f"<td>{iso_date(inv['due_date'])}</td>"
                    f"<td>{STATE_NL.get(inv['state'], inv['state'])}</td>"
                    f"<td style='text-align:right'>€ {money(t['unpaid'])}</td></tr>"
                )
        body = (
            f"<p><a href='/_emulator/'>← administraties</a></p><h1>{html.escape(adm['name'])}</h1>"
            "<table><tr><th>Factuur</th><th>Contact</th><th>Datum</th><th>Vervaldatum</th><th>Status</th>"
            f"<th>Openstaand</th></tr>{''.join(rows)}</table>"
        )
        return html_page(adm["name"], body)

    def view_invoice(self, adm_id: str, invoice_id: str) -> flask.Response | str:
        """One invoice with notes, payments and webhook deliveries."""
        with self._lock:
            adm = self._adms.get(adm_id)
            if adm is None or invoice_id not in adm["invoices"]:
                flask.abort(404)
            self._refresh_states(adm)
            inv = self._render_invoice(adm, adm["invoices"][invoice_id])
            deliveries = [
                d
                for d in self.deliveries
                if d["entity_id"] == invoice_id
                or (d["entity_type"] in ("Payment", "Note") and d["administration_id"] == adm_id)
            ]
        e = html.escape
        notes = (
            "".join(f"<li>{e(n['created_at'])}: {e(n['note'] or '')}</li>" for n in inv["notes"])
            or "<li>geen</li>"
        )
        pays = (
            "".join(
                f"<li>{e(p['payment_date'])}: € {e(p['price'])}"
                f"{' (creditnota)' if p['credit_invoice_id'] else ''}</li>"
                for p in inv["payments"]
            )
            or "<li>geen</li>"
        )
        hooks = (
            "".join(
                f"<li>{e(d['action'])} → {e(d['url'])}: status {d['status']} "
                f"na {d['attempts']} poging(en)</li>"
                for d in deliveries[-20:]
            )
            or "<li>geen</li>"
        )
        button = ""
        if inv["state"] not in ("paid", "draft"):
            button = (
                "<form method='post' "
                f"action='/_emulator/{adm_id}/sales_invoices/{invoice_id}/mark_paid'>"
                "<button type='submit'>Markeer als betaald</button></form>"
            )
        body = (
            f"<p><a href='/_emulator/{adm_id}'>← facturen</a></p>"
            f"<h1>Factuur {e(inv['invoice_id'] or 'concept')}</h1>"
            f"<p>Contact: {e(contact_name(inv['contact'] or {}))}<br>"
            f"Factuurdatum: {inv['invoice_date'] or '–'}, vervaldatum: {inv['due_date']}<br>"
            f"Status: <strong>{STATE_NL.get(inv['state'], inv['state'])}</strong>"
            f"{' (gepauzeerd)' if inv['paused'] else ''}<br>"
            f"Totaal: € {inv['total_price_incl_tax']}, betaald: € {inv['total_paid']}, "
            f"openstaand: € {inv['total_unpaid']}<br>Versie: {inv['version']}</p>{button}"
            f"<h2>Notities</h2><ul>{notes}</ul><h2>Betalingen</h2><ul>{pays}</ul>"
            f"<h2>Webhook-afleveringen</h2><ul>{hooks}</ul>"
        )
        return html_page(f"Factuur {inv['invoice_id'] or 'concept'}", body)

    def view_mark_paid(self, adm_id: str, invoice_id: str) -> flask.Response:
        """Demo button: pay the open amount, then go back to the invoice."""
        try:
            self.mark_paid(adm_id, invoice_id)
        except (KeyError, ApiError):
            flask.abort(404)
        return flask.redirect(f"/_emulator/{adm_id}/sales_invoices/{invoice_id}", code=303)

    def _by_public_hash(self, adm_id: str, first: str, second: str
                        ) -> tuple[dict[str, Any], dict[str, Any]]:
        adm = self._adms.get(adm_id)
        if adm is not None:
            for inv in adm["invoices"].values():
                if inv["_hash"] == first + second and inv["state"] != "draft":
                    return adm, inv
        flask.abort(404)

    def view_public_invoice(self, adm_id: str, first: str, second: str) -> str:
        """The invoice's own online page (``url``/``payment_url``), with a "pay now" button
        standing in for Moneybird's payment providers: paying marks it paid (webhooks go out)."""
        with self._lock:
            adm, inv = self._by_public_hash(adm_id, first, second)
            self._refresh_states(adm)
            t = data.invoice_totals(inv)
            state = inv["state"]
            number = inv["invoice_id"] or "concept"
        e = html.escape
        if state == "paid":
            action = "<p role='status'><strong>Deze factuur is betaald.</strong> Dank u wel.</p>"
        else:
            action = (f"<form method='post' action='{e(flask.request.path)}/pay'>"
                      f"<button type='submit'>Nu betalen: € {money(t['unpaid'])}</button></form>")
        body = (f"<h1>Factuur {e(number)}</h1><p>{e(adm['name'])}</p>"
                f"<p>Openstaand: € {money(t['unpaid'])}</p>{action}")
        return html_page(f"Factuur {number}", body)

    def view_public_pay(self, adm_id: str, first: str, second: str) -> flask.Response:
        with self._lock:
            _adm, inv = self._by_public_hash(adm_id, first, second)
            invoice_id = inv["id"]
        with contextlib.suppress(ApiError):  # already paid: the page says so
            self.mark_paid(adm_id, invoice_id)
        return flask.redirect(flask.request.path.rsplit("/", 1)[0], code=303)
