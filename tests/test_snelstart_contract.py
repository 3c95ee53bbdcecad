"""Contract: what our SnelStart client sends and what the emulator answers, against our schema
of the fields we use (tests/contract/snelstart_schema.py), and the schema is not toothless."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import flask

from providers.base import SyncCursor
from providers.snelstart.emulator import SnelStartEmulator
from tests.contract.snelstart_schema import OPERATIONS, validate_exchange
from tests.snelstart_world import finish, serve


def test_every_operation_we_use_conforms_both_ways() -> None:
    emu = SnelStartEmulator(seed=11)
    world = serve(emu)
    try:
        provider = world.provider
        tokens = provider.tokens_for(emu.key_for())
        provider.list_tenants(tokens)
        ledger = provider.ledger(world.adm_id, tokens)
        pages = list(ledger.changed_invoices(SyncCursor()))
        invoice = pages[-1].invoices[0]
        quiet = next(r for r in emu.customer_ids()
                     if r not in {d.id for p in pages for d in p.debtors})
        ledger._relation(quiet)  # the single-relation read an old customer's new invoice makes
        ledger.invoice(invoice.id)
        ledger.add_note(invoice.id, "Herinnering per e-mail verstuurd.", "PI-C0471AC70001",
                        maybe_done=True)
        [(journal, _)] = ledger.payment_setting_choices("bank_journal_id")
        ledger.register_payment(invoice.id, Decimal("12.50"), date(2026, 11, 2),
                                "PI-C0471AC70002", {"bank_journal_id": journal},
                                maybe_done=True)
        used = {(c["method"], c["path"].removeprefix("/v2")) for c in emu.calls}
        for method, pattern, *_ in OPERATIONS:
            assert any(m == method and re.fullmatch(pattern, p) for m, p in used), pattern
        assert emu.token_requests == 1
    finally:
        finish(world)  # fails the test on any exchange that does not conform


def _exchange(method: str, path: str, answer: Any, status: int = 200, *,
              query: str = "", body: Any = None, headers: dict[str, str] | None = None
              ) -> list[str]:
    app = flask.Flask(__name__)
    sent = {"Ocp-Apim-Subscription-Key": "k", "Authorization": "Bearer t", **(headers or {})}
    with app.test_request_context(path, method=method, query_string=query, json=body,
                                  headers={k: v for k, v in sent.items() if v}):
        response = SnelStartEmulator.respond(status, answer)
        return validate_exchange(flask.request, response)


INVOICE = {"id": "0b9e1f4e-8c3a-4f64-9a57-1c2d3e4f5a6b", "factuurnummer": "2026001",
           "modifiedOn": "2026-11-27T10:00:00.123", "openstaandSaldo": 12.5,
           "factuurBedrag": 12.5, "vervalDatum": "2026-11-01T00:00:00",
           "relatie": {"id": "0b9e1f4e-8c3a-4f64-9a57-1c2d3e4f5a6c"},
           "verkoopBoeking": {"id": "0b9e1f4e-8c3a-4f64-9a57-1c2d3e4f5a6d"}}


def test_the_schema_catches_what_breaks_the_contract() -> None:
    assert _exchange("GET", "/v2/verkoopfacturen", [INVOICE], query="$top=500&$skip=0") == []
    assert _exchange("GET", "/v2/verkoopfacturen", [{**INVOICE, "openstaandSaldo": "12.50"}])
    assert _exchange("GET", "/v2/verkoopfacturen", [], query="$top=501")
    assert _exchange("GET", "/v2/verkoopfacturen", INVOICE)  # a list answers a bare array
    assert _exchange("GET", "/v2/verkoopfacturen", [], headers={"Ocp-Apim-Subscription-Key": ""})
    relation = {"id": INVOICE["relatie"]["id"], "aanmaningsoort": "Particulier"}
    assert _exchange("GET", f"/v2/relaties/{relation['id']}", relation)
    assert _exchange("GET", "/v2/verkoopboekingen", [])  # not an operation we use
    document = {"content": "not base64!", "fileName": "Pre-incasso PI-1.pdf",
                "parentIdentifier": INVOICE["verkoopBoeking"]["id"], "readOnly": True}
    assert _exchange("POST", "/v2/documenten/Verkoopboekingen", {"id": INVOICE["id"]},
                     body=document)
    booking = {"datum": "2026-11-02T00:00:00", "bedragOntvangen": 1, "bedragUitgegeven": 0}
    assert any("dagboek" in p for p in _exchange("POST", "/v2/bankboekingen", {}, 201,
                                                 body=booking))
