"""The emulator's pages for people (``/_emulator/``): the administrations with their
koppelsleutel, the open sales invoices, and the documents and bank bookings we wrote."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import flask

from providers.emulator_server import html_page


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _euro(value: Any) -> str:
    return f"€ {Decimal(str(value)):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def register(app: flask.Flask, emu: Any) -> None:
    def index() -> str:
        rows = "".join(
            f"<tr><td><a href='/_emulator/{_e(a['id'])}'>{_e(a['name'])}</a></td>"
            f"<td><code>{_e(emu.key_for(a['id']))}</code></td>"
            f"<td>{sum(1 for i in a['invoices'].values() if i['openstaandSaldo'] > 0)}</td>"
            f"<td>{len(a['documents'])}</td><td>{len(a['bank_bookings'])}</td></tr>"
            for a in emu.admins.values())
        return html_page("SnelStart-emulator", (
            "<h1>SnelStart-emulator</h1><p>Plak de koppelsleutel op de koppelpagina.</p>"
            "<table><tr><th>Administratie</th><th>Koppelsleutel</th><th>Open facturen</th>"
            f"<th>Documenten</th><th>Bankboekingen</th></tr>{rows}</table>"))

    def administration(adm_id: str) -> str:
        with emu.lock:
            adm = emu.admins.get(adm_id)
            if adm is None:
                flask.abort(404)
            relations = adm["relations"]
            invoices = sorted(adm["invoices"].values(), key=lambda i: i["factuurnummer"])
            open_rows = "".join(
                f"<tr><td>{_e(i['factuurnummer'])}</td>"
                f"<td>{_e(relations.get(i['relatie'], {}).get('naam'))}</td>"
                f"<td>{_e(i['vervalDatum'])}</td><td>{_euro(i['factuurBedrag'])}</td>"
                f"<td>{_euro(i['openstaandSaldo'])}</td><td>"
                f"<form method='post' action='/_emulator/{_e(adm_id)}/verkoopfacturen/"
                f"{_e(i['id'])}/betaald'><button>Betaald</button></form></td></tr>"
                for i in invoices if i["openstaandSaldo"] > 0)
            by_booking = {i["verkoopBoeking"]: i for i in adm["invoices"].values()}
            docs = "".join(
                f"<tr><td>{d['at']:%Y-%m-%d %H:%M}</td>"
                f"<td>{_e(by_booking.get(d['verkoopBoekingId'], {}).get('factuurnummer'))}</td>"
                f"<td><a href='/_emulator/{_e(adm_id)}/documenten/{_e(d['id'])}'>"
                f"{_e(d['fileName'])}</a></td></tr>"
                for d in sorted(adm["documents"].values(), key=lambda d: d["at"]))
            bookings = "".join(
                f"<tr><td>{_e(b.get('datum'))}</td><td>{_e(b.get('omschrijving'))}</td>"
                f"<td>{_euro(b.get('bedragOntvangen') or 0)}</td></tr>"
                for b in adm["bank_bookings"].values())
        return html_page(f"SnelStart – {adm['name']}", (
            f"<h1>{_e(adm['name'])}</h1><p><a href='/_emulator/'>alle administraties</a></p>"
            "<h2>Openstaande verkoopfacturen</h2><table><tr><th>Factuur</th><th>Relatie</th>"
            "<th>Vervaldatum</th><th>Bedrag</th><th>Openstaand</th><th></th></tr>"
            f"{open_rows}</table>"
            "<h2>Documenten bij verkoopboekingen</h2><table><tr><th>Geplaatst</th>"
            f"<th>Factuur</th><th>Bestand</th></tr>{docs}</table>"
            "<h2>Bankboekingen</h2><table><tr><th>Datum</th><th>Omschrijving</th>"
            f"<th>Ontvangen</th></tr>{bookings}</table>"))

    def document(adm_id: str, doc_id: str) -> flask.Response:
        with emu.lock:
            doc = emu.admins.get(adm_id, {}).get("documents", {}).get(doc_id)
        if doc is None:
            flask.abort(404)
        return flask.Response(doc["content"], content_type="application/pdf")

    def mark_paid(adm_id: str, invoice_id: str) -> flask.Response:
        emu.settle(invoice_id, administration_id=adm_id)
        return flask.redirect(f"/_emulator/{adm_id}", code=303)

    app.add_url_rule("/_emulator/", "view_index", index)
    app.add_url_rule("/_emulator/<adm_id>", "view_administration", administration)
    app.add_url_rule("/_emulator/<adm_id>/documenten/<doc_id>", "view_document", document)
    app.add_url_rule("/_emulator/<adm_id>/verkoopfacturen/<invoice_id>/betaald", "view_paid",
                     mark_paid, methods=["POST"])
