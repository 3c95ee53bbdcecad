"""HTML views for people: divisions, open items, an account with a pay button."""

from __future__ import annotations

import html

import flask

from providers.emulator_kit.html import html_page
from providers.exact_online.emulator.common import is_open
from providers.exact_online.emulator_data import cents


class Views:
    """Mixin: the /_emulator/ pages."""

    # ------------------------------------------------------------------ HTML view for people

    def view_index(self) -> str:
        """List divisions."""
        with self._lock:
            rows = "".join(
                f'<li><a href="/_emulator/{d["Code"]}">{html.escape(d["Description"])}</a> '
                f"(divisie <code>{d['Code']}</code>, "
                f"{sum(1 for it in d['items'].values() if is_open(it))}"
                f" openstaande posten, {len(d['accounts'])} relaties, "
                f"{len(d['notes'])} notities)</li>"
                for d in self._divs.values()
            )
        body = (
            "<h1>Exact Online-emulator</h1>"
            f"<p>Client id: <code>{html.escape(self.client_id)}</code> · huidige divisie (Me): "
            f"<code>{self.current_division}</code></p><ul>{rows}</ul>"
        )
        return html_page("Exact Online-emulator", body)

    def view_division(self, code: int) -> str:
        """Open items of one division, oldest due date first."""
        with self._lock:
            div = self._divs.get(code)
            if div is None:
                flask.abort(404)
            today = self._today()
            items = sorted(
                (
                    it
                    for it in div["items"].values()
                    if it["LineType"] == 20 and it["Paid"] < it["Total"]
                ),
                key=lambda it: (it["DueDate"], it["InvoiceNumber"]),
            )
            rows = []
            for it in items[:1000]:
                acc = div["accounts"].get(it["Account"], {})
                late = (today - it["DueDate"]).days
                rows.append(
                    f"<tr><td>{it['InvoiceNumber']}</td>"
                    f"<td><a href='/_emulator/{code}/accounts/{it['Account']}'>"
                    f"{html.escape(acc.get('Name', '–'))}</a></td>"
                    f"<td>{it['DueDate'].isoformat()}</td><td>{late if late > 0 else ''}</td>"
                    f"<td style='text-align:right'>€ {cents(it['Total'] - it['Paid'])}</td></tr>"
                )
        more = f"<p>… en nog {len(items) - 1000} posten</p>" if len(items) > 1000 else ""
        body = (
            f"<p><a href='/_emulator/'>← divisies</a></p><h1>{html.escape(div['Description'])}</h1>"
            f"<p>{len(items)} openstaande posten</p><table><tr><th>Factuur</th><th>Relatie</th>"
            "<th>Vervaldatum</th><th>Dagen te laat</th><th>Openstaand</th></tr>"
            f"{''.join(rows)}</table>{more}"
        )
        return html_page(div["Description"], body)

    def view_account(self, code: int, account_id: str) -> str:
        """One account: open items (with a pay button), notes we wrote, payments."""
        with self._lock:
            div = self._divs.get(code)
            if div is None or account_id not in div["accounts"]:
                flask.abort(404)
            acc = div["accounts"][account_id]
            items = [it for it in div["items"].values() if it["Account"] == account_id]
            notes = [n for n in div["notes"].values() if n["Account"] == account_id]
            pays = [
                (e, ln)
                for e in div["entries"].values()
                for ln in e["lines"]
                if ln["Account"] == account_id
            ]
        e = html.escape
        item_rows = "".join(
            f"<tr><td>{it['InvoiceNumber']}</td><td>{it['DueDate'].isoformat()}</td>"
            f"<td>€ {cents(it['Total'])}</td><td>€ {cents(it['Total'] - it['Paid'])}</td><td>"
            + (
                f"<form method='post' action='/_emulator/{code}/items/{it['ID']}/pay'>"
                "<button type='submit'>Markeer als betaald</button></form>"
                if it["Paid"] < it["Total"]
                else "betaald"
            )
            + "</td></tr>"
            for it in sorted(items, key=lambda it: it["DueDate"])
        )
        note_rows = (
            "".join(
                f"<li>{n['Created'].isoformat()}: <strong>{e(n['Subject'])}</strong>"
                f"<br>{e(n['Notes'] or '')}</li>"
                for n in notes
            )
            or "<li>geen</li>"
        )
        pay_rows = (
            "".join(
                f"<li>{ln['Date'].isoformat()}: € {ln['AmountFC']} ({e(ent['kind'])}, "
                f"OurRef {ln['OurRef']}, {e(ent['source'])})</li>"
                for ent, ln in pays
            )
            or "<li>geen</li>"
        )
        body = (
            f"<p><a href='/_emulator/{code}'>← openstaande posten</a></p>"
            f"<h1>{e(acc['Name'])}</h1><p>Code {e(acc['Code'].strip())} · {e(acc['Email'] or '')}"
            f" · {e(acc['Phone'] or '')}<br>{e(acc['AddressLine1'] or '')}, "
            f"{e(acc['Postcode'] or '')} {e(acc['City'] or '')}<br>"
            f"KvK {e(acc['ChamberOfCommerce'] or '–')} · btw {e(acc['VATNumber'] or '–')}</p>"
            "<h2>Posten</h2><table><tr><th>Factuur</th><th>Vervaldatum</th><th>Bedrag</th>"
            f"<th>Openstaand</th><th></th></tr>{item_rows}</table>"
            f"<h2>Notities (CommunicationNotes)</h2><ul>{note_rows}</ul>"
            f"<h2>Betalingen</h2><ul>{pay_rows}</ul>"
        )
        return html_page(acc["Name"], body)

    def view_pay(self, code: int, item_id: str) -> flask.Response:
        """Demo button: the debtor paid in full (bank feed), back to the account page."""
        try:
            row = self.pay_item(code, item_id)
        except KeyError:
            flask.abort(404)
        return flask.redirect(f"/_emulator/{code}/accounts/{row['Account']}", code=303)
