"""The Xero emulator for people and tests: pages under ``/_emulator/``, the online invoice a
debtor opens from our letter (with a pay button), and the helpers tests drive it with."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal
from typing import Any

import flask

from providers.emulator_server import html_page

Row = dict[str, Any]


class ViewsMixin:
    """Pages and test helpers (mixed into :class:`XeroEmulator`)."""

    # -- helpers for tests and the demo ---------------------------------------------------

    def tenant_ids(self: Any) -> list[str]:
        return list(self.orgs)

    def open_invoices(self: Any, tenant_id: str) -> list[Row]:
        """Open sales invoices (authorised, something due)."""
        with self._lock:
            return [r for r in self.orgs[tenant_id]["invoices"].values()
                    if r["Type"] == "ACCREC" and r["Status"] == "AUTHORISED"
                    and self.amount_due(r) > 0]

    def history(self: Any, tenant_id: str, invoice_id: str) -> list[str]:
        with self._lock:
            return [n["Details"] for n in self.orgs[tenant_id]["history"].get(invoice_id, [])]

    def payments(self: Any, tenant_id: str) -> list[Row]:
        with self._lock:
            return list(self.orgs[tenant_id]["payments"].values())

    def pay_invoice(self: Any, tenant_id: str, invoice_id: str,
                    amount: Decimal | None = None) -> Row:
        """The debtor paid (bank feed reconciled in Xero): a payment and a webhook."""
        with self._lock:
            org = self.orgs[tenant_id]
            row = org["invoices"][invoice_id]
            bank = next(a for a in org["accounts"] if a["Type"] == "BANK")
            return self.add_payment(org, row, amount or self.amount_due(row),
                                    self.now().date(), "Bankafschrift", bank)

    def void_invoice(self: Any, tenant_id: str, invoice_id: str) -> None:
        with self._lock:
            row = self.orgs[tenant_id]["invoices"][invoice_id]
            row["Status"], row["UpdatedDateUTC"] = "VOIDED", self.now()
        self.emit(tenant_id, "INVOICE", "UPDATE", invoice_id)

    def credit_invoice(self: Any, tenant_id: str, invoice_id: str) -> None:
        """A credit note allocated for the whole amount due."""
        with self._lock:
            row = self.orgs[tenant_id]["invoices"][invoice_id]
            row["AmountCredited"] += self.amount_due(row)
            row["Status"], row["UpdatedDateUTC"] = "PAID", self.now()
        self.emit(tenant_id, "INVOICE", "UPDATE", invoice_id)

    def set_due_date(self: Any, tenant_id: str, invoice_id: str, due: date) -> None:
        with self._lock:
            row = self.orgs[tenant_id]["invoices"][invoice_id]
            row["DueDate"], row["UpdatedDateUTC"] = due, self.now()

    # -- pages ----------------------------------------------------------------------------

    def _add_views(self: Any, app: flask.Flask) -> None:
        app.add_url_rule("/_emulator/", "view_index", self.view_index)
        app.add_url_rule("/_emulator/<tenant_id>", "view_org", self.view_org)
        app.add_url_rule("/_emulator/<tenant_id>/invoices/<invoice_id>", "view_invoice",
                         self.view_invoice)
        app.add_url_rule("/_emulator/<tenant_id>/invoices/<invoice_id>/pay", "view_pay",
                         self.view_pay, methods=["POST"])
        app.add_url_rule("/_emulator/online/<tenant_id>/<invoice_id>", "online_invoice",
                         self.view_online)
        app.add_url_rule("/_emulator/online/<tenant_id>/<invoice_id>", "online_pay",
                         self.view_pay, methods=["POST"])

    def _org(self: Any, tenant_id: str) -> Row:
        org = self.orgs.get(tenant_id)
        if org is None:
            flask.abort(404)
        return org

    def view_index(self: Any) -> str:
        with self._lock:
            rows = "".join(
                f'<li><a href="/_emulator/{t}">{html.escape(o["Name"])}</a> '
                f"({len(self.open_invoices(t))} open, {len(o['payments'])} betalingen via API, "
                f"{'verbonden' if not self.disconnected(t) else 'niet verbonden'})</li>"
                for t, o in self.orgs.items())
            hook = self.webhook_url
            status, failures = self.webhook_status, list(self.webhook_failures)
            delivered = sum(1 for d in self.deliveries if d["status"] == 200)
        problems = "".join(f"<li>{html.escape(f)}</li>" for f in failures)
        webhook = (f"<h2>Webhook van de app</h2><p>URL: <code>{html.escape(hook or '–')}"
                   f"</code><br>Status: <strong id='webhook-status'>{html.escape(status)}"
                   f"</strong> ({delivered} afgeleverd)</p>"
                   + (f"<ul>{problems}</ul>" if problems else ""))
        return html_page("Xero-emulator",
                         f"<h1>Xero-emulator</h1><ul>{rows}</ul>{webhook}")

    def view_org(self: Any, tenant_id: str) -> str:
        org = self._org(tenant_id)
        with self._lock:
            rows = "".join(
                f'<tr><td><a href="/_emulator/{tenant_id}/invoices/{r["InvoiceID"]}">'
                f'{html.escape(r["InvoiceNumber"])}</a></td>'
                f'<td>{html.escape(org["contacts"][r["ContactID"]]["Name"])}</td>'
                f'<td>{r["Status"]}</td><td>{r["CurrencyCode"]} {self.amount_due(r)}</td>'
                f'<td>{r["DueDate"]:%d-%m-%Y}</td>'
                f'<td>{len(org["history"].get(r["InvoiceID"], []))}</td></tr>'
                for r in sorted(org["invoices"].values(), key=lambda r: r["InvoiceNumber"])
                if r["Type"] == "ACCREC")
        body = (f"<h1>{html.escape(org['Name'])}</h1><p><a href='/_emulator/'>terug</a></p>"
                "<table><tr><th>Factuur</th><th>Contact</th><th>Status</th><th>Open</th>"
                f"<th>Vervaldatum</th><th>Historie</th></tr>{rows}</table>")
        return html_page(org["Name"], body)

    def view_invoice(self: Any, tenant_id: str, invoice_id: str) -> str:
        org = self._org(tenant_id)
        with self._lock:
            row = org["invoices"].get(invoice_id) or flask.abort(404)
            notes = "".join(
                f"<li>{n['DateUTC']:%d-%m-%Y %H:%M} – {html.escape(n.get('User', ''))}: "
                f"<pre>{html.escape(n['Details'])}</pre></li>"
                for n in org["history"].get(invoice_id, []))
            pays = "".join(f"<li>{p['Date']:%d-%m-%Y}: {p['Amount']} "
                           f"({html.escape(p['Reference'])})</li>" for p in row["Payments"])
            due = self.amount_due(row)
        button = (f'<form method="post" action="/_emulator/{tenant_id}/invoices/{invoice_id}/'
                  'pay"><button>Debiteur betaalt alles</button></form>'
                  if row["Status"] == "AUTHORISED" and due > 0 else "")
        body = (f"<h1>{html.escape(row['InvoiceNumber'])}</h1>"
                f"<p><a href='/_emulator/{tenant_id}'>terug</a></p>"
                f"<p>Status {row['Status']}, open {row['CurrencyCode']} {due}</p>{button}"
                f"<h2>Historie en notities</h2><ul>{notes}</ul>"
                f"<h2>Betalingen</h2><ul>{pays}</ul>")
        return html_page(row["InvoiceNumber"], body)

    def view_online(self: Any, tenant_id: str, invoice_id: str) -> str:
        """The online invoice (the link in our letters): what is due, and a pay button."""
        org = self._org(tenant_id)
        with self._lock:
            row = org["invoices"].get(invoice_id) or flask.abort(404)
            due = self.amount_due(row)
        button = (f'<form method="post"><button>Betaal {row["CurrencyCode"]} {due}</button>'
                  "</form>" if row["Status"] == "AUTHORISED" and due > 0 else
                  "<p>Deze factuur is betaald.</p>")
        body = (f"<h1>{html.escape(org['Name'])}</h1><p>Factuur "
                f"{html.escape(row['InvoiceNumber'])}, vervaldatum {row['DueDate']:%d-%m-%Y}"
                f"</p>{button}")
        return html_page(f"Factuur {row['InvoiceNumber']}", body)

    def view_pay(self: Any, tenant_id: str, invoice_id: str) -> flask.Response:
        self._org(tenant_id)
        with self._lock:
            row = self.orgs[tenant_id]["invoices"].get(invoice_id) or flask.abort(404)
            if row["Status"] == "AUTHORISED" and self.amount_due(row) > 0:
                self.pay_invoice(tenant_id, invoice_id)
        return flask.redirect(flask.request.path.removesuffix("/pay"), code=303)
