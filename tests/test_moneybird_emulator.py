"""Moneybird emulator tests over real HTTP; the fixture contract-checks every exchange."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
import requests
import time_machine
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from providers.moneybird.emulator import MoneybirdEmulator
from providers.moneybird.emulator_data import today_in_amsterdam
from tests.contract.openapi import validate_exchange

REDIRECT = "http://127.0.0.1:9/callback"


def today() -> date:
    """The emulator's notion of today (Europe/Amsterdam)."""
    return today_in_amsterdam(datetime.now(UTC))


def call(
    emu: MoneybirdEmulator, token: str, method: str, path: str, **kw: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    headers.update(kw.pop("headers", {}))
    assert emu.server is not None
    kw.setdefault("timeout", 10)
    return requests.request(method, f"{emu.server.url}/api/v2{path}", headers=headers, **kw)


def adm0(emu: MoneybirdEmulator) -> str:
    return emu.administration_ids()[0]


def first(emu: MoneybirdEmulator, state: str, unpaid_only: bool = False) -> dict[str, Any]:
    for inv in emu.invoices(adm0(emu)):
        if inv["state"] == state and (not unpaid_only or not inv["payments"]):
            return inv
    raise AssertionError(f"no {state} invoice")


# ---------------------------------------------------------------- OAuth


def authorize(
    emu: MoneybirdEmulator,
    decision: str = "approve",
    adms: list[str] | None = None,
    scope: str = "sales_invoices settings",
    state: str = "st4te",
) -> requests.Response:
    assert emu.server is not None
    s = requests.Session()
    page = s.get(
        f"{emu.server.url}/oauth/authorize",
        params={
            "client_id": emu.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": scope,
            "state": state,
        },
        timeout=10,
    )
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert page.text.count('name="administration_ids"') == len(emu.administration_ids())
    form: dict[str, Any] = {
        k: html.unescape(v)
        for k, v in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text)
    }
    form["administration_ids"] = adms if adms is not None else emu.administration_ids()
    form["decision"] = decision
    return s.post(f"{emu.server.url}/oauth/authorize", data=form, allow_redirects=False, timeout=10)


def token_request(emu: MoneybirdEmulator, **data: str) -> requests.Response:
    assert emu.server is not None
    body = {"client_id": emu.client_id, "client_secret": emu.client_secret, **data}
    return requests.post(f"{emu.server.url}/oauth/token", data=body, timeout=10)


def test_oauth_code_flow_refresh_without_rotation(make_moneybird_emulator: Any) -> None:
    emu = make_moneybird_emulator(redirect_uri=REDIRECT)
    granted = adm0(emu)
    resp = authorize(emu, adms=[granted])
    assert resp.status_code == 302
    loc = urlsplit(resp.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    q = parse_qs(loc.query)
    assert q["state"] == ["st4te"]
    code = q["code"][0]

    tok = token_request(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert tok.status_code == 200, tok.text
    body = tok.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "sales_invoices settings"
    assert isinstance(body["created_at"], int)
    assert "expires_in" not in body  # Moneybird tokens do not expire unless configured

    again = token_request(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    access = body["access_token"]
    adms = call(emu, access, "GET", "/administrations.json").json()
    assert [a["id"] for a in adms] == [granted]
    other = emu.administration_ids()[1]
    r = call(emu, access, "GET", f"/{other}/sales_invoices/synchronization.json")
    assert r.status_code == 404

    ref = token_request(emu, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert ref.status_code == 200
    assert ref.json()["refresh_token"] == body["refresh_token"]
    assert (
        call(emu, access, "GET", "/administrations.json").status_code == 401
    )  # old access revoked
    assert call(emu, ref.json()["access_token"], "GET", "/administrations.json").status_code == 200
    ref2 = token_request(emu, grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert ref2.status_code == 200  # same refresh token stays valid without rotation

    bad = token_request(emu, grant_type="refresh_token", refresh_token="nope")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    wrong_secret = token_request(
        emu, grant_type="refresh_token", refresh_token=body["refresh_token"], client_secret="wrong"
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    basic = requests.post(
        f"{emu.server.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=(emu.client_id, emu.client_secret),
        timeout=10,
    )
    assert basic.status_code == 200


def test_oauth_deny_bad_client_and_redirect(make_moneybird_emulator: Any) -> None:
    emu = make_moneybird_emulator(redirect_uri=REDIRECT)
    resp = authorize(emu, decision="deny")
    q = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert q["error"] == ["access_denied"] and q["state"] == ["st4te"] and "code" not in q
    base = f"{emu.server.url}/oauth/authorize"
    bad_client = requests.get(
        base,
        params={"client_id": "x", "redirect_uri": REDIRECT, "response_type": "code"},
        allow_redirects=False,
        timeout=10,
    )
    assert bad_client.status_code == 400 and "Location" not in bad_client.headers
    bad_redirect = requests.get(
        base,
        params={
            "client_id": emu.client_id,
            "redirect_uri": REDIRECT + "/",
            "response_type": "code",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert bad_redirect.status_code == 400
    code = parse_qs(urlsplit(authorize(emu).headers["Location"]).query)["code"][0]
    mismatch = token_request(
        emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT + "x"
    )
    assert mismatch.json()["error"] == "invalid_grant"


def test_oauth_rotation_ttl_and_expiry(make_moneybird_emulator: Any) -> None:
    emu = make_moneybird_emulator(token_ttl=3600, rotate_refresh_tokens=True)
    code = parse_qs(urlsplit(authorize(emu, scope="").headers["Location"]).query)["code"][0]
    body = token_request(
        emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    ).json()
    assert body["expires_in"] == 3600
    assert body["scope"] == "sales_invoices"  # default scope
    access = body["access_token"]
    assert call(emu, access, "GET", "/administrations.json").status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3700)):
        expired = call(emu, access, "GET", "/administrations.json")
        assert expired.status_code == 401
        assert expired.json()["error"] == "token is invalid"
        new = token_request(
            emu, grant_type="refresh_token", refresh_token=body["refresh_token"]
        ).json()
        assert new["refresh_token"] != body["refresh_token"]
        old = token_request(emu, grant_type="refresh_token", refresh_token=body["refresh_token"])
        assert old.status_code == 400
        assert call(emu, new["access_token"], "GET", "/administrations.json").status_code == 200
    emu.expire_access_tokens()
    assert call(emu, new["access_token"], "GET", "/administrations.json").status_code == 401
    emu.revoke_tokens()
    assert (
        token_request(
            emu, grant_type="refresh_token", refresh_token=new["refresh_token"]
        ).status_code
        == 400
    )


def test_scopes(moneybird_emulator: MoneybirdEmulator) -> None:
    emu = moneybird_emulator
    a = adm0(emu)
    only_invoices, _ = emu.issue_token(scopes=("sales_invoices",))
    r = call(emu, only_invoices, "GET", f"/{a}/webhooks.json")
    assert r.status_code == 401 and r.json() == {"error": "No access to settings"}
    assert call(emu, only_invoices, "GET", f"/{a}/contacts/synchronization.json").status_code == 200
    only_settings, _ = emu.issue_token(scopes=("settings",))
    r = call(emu, only_settings, "GET", f"/{a}/sales_invoices.json")
    assert r.json() == {"error": "No access to sales_invoices"}
    assert (
        call(emu, only_settings, "GET", f"/{a}/financial_accounts.json").json()[0]["type"]
        == "BankAccount"
    )
    assert call(emu, "garbage", "GET", "/administrations.json").status_code == 401
    assert (
        requests.get(f"{emu.server.url}/api/v2/administrations.json", timeout=10).status_code == 401
    )
    emu.contract_errors.clear()  # the request without Authorization is (correctly) flagged


# ---------------------------------------------------------------- sync, filters, paging


def test_default_period_pitfall_and_filters(moneybird_emulator: MoneybirdEmulator) -> None:
    emu = moneybird_emulator
    a = adm0(emu)
    tok, _ = emu.issue_token()
    this_year = today().year
    all_invoices = emu.invoices(a)
    older = {
        i["id"]
        for i in all_invoices
        if i["invoice_date"] and int(i["invoice_date"][:4]) < this_year
    }
    assert older, "seed data must contain invoices from earlier years"

    default = {
        x["id"] for x in call(emu, tok, "GET", f"/{a}/sales_invoices/synchronization.json").json()
    }
    assert default and not default & older
    wide = call(
        emu,
        tok,
        "GET",
        f"/{a}/sales_invoices/synchronization.json",
        params={"filter": "period:20000101..20991231"},
    ).json()
    # drafts without invoice_date match any period that contains today (documented)
    assert {x["id"] for x in wide} == {i["id"] for i in all_invoices}
    assert all(isinstance(x["version"], int) and isinstance(x["id"], str) for x in wide)

    late_default = call(
        emu,
        tok,
        "GET",
        f"/{a}/sales_invoices/synchronization.json",
        params={"filter": "state:late|reminded"},
    ).json()
    late_all = call(
        emu,
        tok,
        "GET",
        f"/{a}/sales_invoices/synchronization.json",
        params={"filter": "state:late|reminded,period:200001..209912"},
    ).json()
    assert len(late_default) < len(late_all)
    typo = call(
        emu, tok, "GET", f"/{a}/sales_invoices/synchronization.json", params={"filter": "stat:late"}
    ).json()
    assert {x["id"] for x in typo} == default  # unknown keys are silently ignored

    bad = call(
        emu,
        tok,
        "GET",
        f"/{a}/sales_invoices/synchronization.json",
        params={"filter": "state:laat"},
    )
    assert bad.status_code == 400 and bad.json()["symbolic"] == {"filter": "invalid"}
    open_ended = call(
        emu, tok, "GET", f"/{a}/sales_invoices.json", params={"filter": "period:20200101.."}
    )
    assert open_ended.json() == {"error": "Period must have both a start and end date"}

    ids = [x["id"] for x in wide]
    fetched = call(
        emu, tok, "POST", f"/{a}/sales_invoices/synchronization.json", json={"ids": [*ids, "999"]}
    ).json()
    assert len(ids) > 100 and len(fetched) == 100

    later = emu.invoice(a, ids[0])
    stamp = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
    emu.mark_paid(a, ids[0]) if later["state"] != "paid" else emu.add_payment(
        a, ids[0], Decimal("1")
    )
    changed = call(
        emu,
        tok,
        "GET",
        f"/{a}/sales_invoices/synchronization.json",
        params={"filter": f"period:20000101..20991231,updated_after:{stamp}"},
    ).json()
    assert [x["id"] for x in changed] == [ids[0]]


def test_list_paging_links_and_money(moneybird_emulator: MoneybirdEmulator) -> None:
    emu = moneybird_emulator
    a = adm0(emu)
    tok, _ = emu.issue_token()
    flt = "period:20000101..20991231"
    first_page = call(emu, tok, "GET", f"/{a}/sales_invoices.json", params={"filter": flt})
    assert len(first_page.json()) == 25  # default per_page
    assert (
        'rel="next"' in first_page.headers["Link"]
        and 'rel="prev"' not in first_page.headers["Link"]
    )
    assert "RateLimit-Limit" not in first_page.headers
    assert first_page.headers["Content-Type"] == "application/json"

    seen: list[str] = []
    url: str | None = f"{emu.server.url}/api/v2/{a}/sales_invoices.json?filter={flt}&per_page=40"
    pages = 0
    while url:
        r = requests.get(url, headers={"Authorization": f"Bearer {tok}"}, timeout=10)
        pages += 1
        seen += [i["id"] for i in r.json()]
        links = dict(
            (rel, u) for u, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', r.headers.get("Link", ""))
        )
        if pages > 1:
            assert "prev" in links
        url = links.get("next")
        if url:
            assert (
                url.startswith(emu.server.url) and "per_page=40" in url and "filter=period:" in url
            )
    assert len(seen) == len(set(seen)) == len(emu.invoices(a))
    assert pages == -(-len(seen) // 40)

    inv = first_page.json()[0]
    for key in (
        "total_price_incl_tax",
        "total_paid",
        "total_unpaid",
        "total_unpaid_base",
        "total_price_excl_tax",
    ):
        assert isinstance(inv[key], str) and Decimal(inv[key]) == Decimal(inv[key]).quantize(
            Decimal("0.01")
        )
    assert Decimal(inv["total_paid"]) + Decimal(inv["total_unpaid"]) == Decimal(
        inv["total_price_incl_tax"]
    )
    assert re.fullmatch(r"\d{18}", inv["id"]) and inv["contact"]["id"] == inv["contact_id"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", inv["updated_at"])
    too_big = call(emu, tok, "GET", f"/{a}/sales_invoices.json", params={"per_page": "101"})
    assert too_big.json() == {"error": "per_page does not have a valid value"}
    emu.contract_errors.clear()  # per_page=101 violates the request schema, as it should


# ---------------------------------------------------------------- write-back


def test_payment_note_pause_resume(moneybird_emulator: MoneybirdEmulator) -> None:
    emu = moneybird_emulator
    a = adm0(emu)
    tok, _ = emu.issue_token()
    inv = first(emu, "late", unpaid_only=True)
    base = f"/{a}/sales_invoices/{inv['id']}"

    note = call(
        emu,
        tok,
        "POST",
        f"{base}/notes.json",
        json={"note": {"note": "[Incasso] Aanmaning", "todo": False}},
    )
    assert note.status_code == 201 and note.json()["entity_id"] == inv["id"]
    blank = call(emu, tok, "POST", f"{base}/notes.json", json={"note": {"note": " "}})
    assert blank.status_code == 422
    assert blank.json() == {
        "error": {"note": ["can't be blank"]},
        "details": {"note": [{"error": "blank"}]},
    }
    assert [n["note"] for n in emu.notes(a, inv["id"])] == ["[Incasso] Aanmaning"]

    missing = call(
        emu, tok, "POST", f"{base}/payments.json", json={"payment": {"payment_date": "2026-01-02"}}
    )
    assert missing.status_code == 422 and "price" in missing.json()["error"]
    assert "'price' is a required property" in emu.contract_errors.pop()  # the client's fault
    action = call(
        emu,
        tok,
        "POST",
        f"{base}/payments.json",
        json={
            "payment": {
                "payment_date": "2026-01-02",
                "price": "1",
                "manual_payment_action": "balance_settlement",
            }
        },
    )
    assert action.status_code == 422 and "ledger_account_id" in action.json()["error"]

    before = call(emu, tok, "GET", f"{base}.json").json()
    comma_amount = inv["total_unpaid"].replace(".", ",")
    pay = call(
        emu,
        tok,
        "POST",
        f"{base}/payments.json",
        json={
            "payment": {
                "payment_date": today().isoformat(),
                "price": comma_amount,
                "transaction_identifier": "COLL-1",
            }
        },
    )
    assert pay.status_code == 201, pay.text
    assert pay.json()["price"] == inv["total_unpaid"]
    after = call(emu, tok, "GET", f"{base}.json").json()
    assert after["state"] == "paid" and after["total_unpaid"] == "0.0" and after["paid_at"]
    assert after["version"] > before["version"]

    gone = call(emu, tok, "DELETE", f"{base}/payments/{pay.json()['id']}.json")
    assert gone.status_code == 204
    reopened = emu.invoice(a, inv["id"])
    assert reopened["state"] == "late" and reopened["paid_at"] is None
    assert reopened["version"] > after["version"]

    draft = first(emu, "draft")
    on_draft = call(
        emu,
        tok,
        "POST",
        f"/{a}/sales_invoices/{draft['id']}/payments.json",
        json={"payment": {"payment_date": "2026-01-02", "price": 10}},
    )
    assert on_draft.status_code == 422

    for _ in range(2):
        p = call(emu, tok, "POST", f"{base}/pause.json", json={})
        assert p.status_code == 201 and p.json()["paused"] is True
    r = call(emu, tok, "POST", f"{base}/resume.json", json={})
    assert r.status_code == 201 and r.json()["paused"] is False
    assert call(emu, tok, "DELETE", f"{base}/notes/{note.json()['id']}.json").status_code == 204
    nf = call(emu, tok, "GET", f"/{a}/sales_invoices/1.json")
    assert nf.status_code == 404 and nf.json() == {
        "error": "record not found",
        "symbolic": {"id": "not_found"},
    }


# ---------------------------------------------------------------- rate limit


def test_rate_limit(make_moneybird_emulator: Any) -> None:
    emu = make_moneybird_emulator(contacts=5, invoices=20)
    a, b = emu.administration_ids()[:2]
    tok, _ = emu.issue_token()
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {tok}"
    url = f"{emu.server.url}/api/v2/{a}/financial_accounts.json"
    start = int(datetime.now(UTC).timestamp())
    for _ in range(150):
        assert s.get(url, timeout=10).status_code == 200
    over = s.get(url, timeout=10)
    assert over.status_code == 429
    assert over.json() == "Retry later"
    reset = int(over.headers["RateLimit-Reset"])
    assert start + 299 <= reset <= start + 302
    assert int(over.headers["Retry-After"]) == reset
    assert over.headers["RateLimit-Limit"] == "150" and over.headers["RateLimit-Remaining"] == "0"
    assert (
        s.get(f"{emu.server.url}/api/v2/{b}/financial_accounts.json", timeout=10).status_code == 200
    )

    emu.html_429 = True
    nginx = s.get(url, timeout=10)
    assert nginx.status_code == 429 and nginx.headers["Content-Type"].startswith("text/html")
    assert "Retry-After" in nginx.headers

    with time_machine.travel(datetime.fromtimestamp(reset + 1, UTC)):
        assert s.get(url, timeout=10).status_code == 200


# ---------------------------------------------------------------- webhooks


@pytest.fixture
def receiver() -> Iterator[dict[str, Any]]:
    app = flask.Flask("receiver")
    got: dict[str, Any] = {"requests": [], "flaky": 0}

    @app.post("/hook")
    def hook() -> tuple[str, int]:
        got["requests"].append((dict(flask.request.headers), flask.request.get_data()))
        return "ok", 200

    @app.post("/flaky")
    def flaky() -> tuple[str, int]:
        got["requests"].append((dict(flask.request.headers), flask.request.get_data()))
        got["flaky"] += 1
        return ("ok", 200) if got["flaky"] in (1, 3) else ("boom", 500)

    @app.post("/broken")
    def broken() -> tuple[str, int]:
        return "nee", 500

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got["url"] = f"http://127.0.0.1:{server.server_port}"
    yield got
    server.shutdown()
    thread.join(5)


def verify(secret: str, header: str, raw: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"])


def test_webhooks(moneybird_emulator: MoneybirdEmulator, receiver: dict[str, Any]) -> None:
    emu = moneybird_emulator
    emu.retry_base_delay = 0.05
    a = adm0(emu)
    tok, _ = emu.issue_token()
    created = call(
        emu,
        tok,
        "POST",
        f"/{a}/webhooks.json",
        json={
            "url": receiver["url"] + "/hook",
            "enabled_events": ["sales_invoice_state_changed", "payment"],
        },
    )
    assert created.status_code == 201, created.text
    wh = created.json()
    assert wh["secret"] and wh["token"]
    headers, body = receiver["requests"].pop(0)
    assert body == b"{}" and "Moneybird-Signature" not in headers
    listed = call(emu, tok, "GET", f"/{a}/webhooks.json").json()
    assert listed[0]["id"] == wh["id"] and "secret" not in listed[0]

    old = call(
        emu,
        tok,
        "POST",
        f"/{a}/webhooks.json",
        json={"url": receiver["url"] + "/hook", "events": ["x"]},
    )
    assert old.status_code == 400
    assert old.json()["error"] == "'events' has been removed from webhooks, use 'enabled_events'"
    assert emu.contract_errors and "events" in emu.contract_errors[-1]  # client error is flagged
    emu.contract_errors.clear()
    broken = call(
        emu, tok, "POST", f"/{a}/webhooks.json", json={"url": receiver["url"] + "/broken"}
    )
    assert broken.status_code == 400

    inv = first(emu, "late", unpaid_only=True)
    emu.mark_paid(a, inv["id"])
    assert emu.wait_for_deliveries(5)
    pushes = [(h, json.loads(b), b) for h, b in receiver["requests"]]
    actions = [p["action"] for _, p, _ in pushes]
    assert actions == ["payment_registered", "sales_invoice_state_changed_to_paid"]
    keys = {h["Idempotency-Key"] for h, _, _ in pushes}
    assert len(keys) == 2
    for h, payload, raw in pushes:
        assert h["Content-Type"] == "application/json"
        assert verify(wh["secret"], h["Moneybird-Signature"], raw)
        assert payload["webhook_id"] == wh["id"] and payload["webhook_token"] == wh["token"]
        assert payload["administration_id"] == a
    paid = pushes[1][1]
    assert (
        paid["entity_type"] == "SalesInvoice"
        and paid["entity_id"] == inv["id"]
        and paid["state"] == "paid"
    )
    assert paid["entity"]["total_unpaid"] == "0.0"
    assert all(d["status"] == 200 for d in emu.deliveries)

    receiver["requests"].clear()
    flaky = call(
        emu,
        tok,
        "POST",
        f"/{a}/webhooks.json",
        json={"url": receiver["url"] + "/flaky", "enabled_events": ["sales_invoice_paused"]},
    ).json()
    receiver["requests"].clear()
    call(emu, tok, "POST", f"/{a}/sales_invoices/{inv['id']}/pause.json", json={})
    assert emu.wait_for_deliveries(5)
    attempts = [h["Idempotency-Key"] for h, _ in receiver["requests"]]
    assert len(attempts) == 2 and attempts[0] == attempts[1]  # retried with the same key
    assert call(emu, tok, "DELETE", f"/{a}/webhooks/{flaky['id']}.json").status_code == 204
    missing = call(emu, tok, "DELETE", f"/{a}/webhooks/{flaky['id']}.json")
    assert missing.json() == {"error": "Record not found for model name: Webhook"}


# ---------------------------------------------------------------- faults, accounting, views


def test_faults_and_call_counting(moneybird_emulator: MoneybirdEmulator) -> None:
    emu = moneybird_emulator
    a = adm0(emu)
    tok, _ = emu.issue_token()
    inv = first(emu, "late")
    emu.reset_calls()
    emu.inject_delay("POST", "/notes", 1.0)
    with pytest.raises(requests.Timeout):
        call(
            emu,
            tok,
            "POST",
            f"/{a}/sales_invoices/{inv['id']}/notes.json",
            json={"note": {"note": "vertraagd"}},
            timeout=0.3,
        )
    assert [n["note"] for n in emu.notes(a, inv["id"])] == ["vertraagd"]  # write happened anyway

    emu.inject_error("POST", "/payments", status=500)
    err = call(
        emu,
        tok,
        "POST",
        f"/{a}/sales_invoices/{inv['id']}/payments.json",
        json={"payment": {"payment_date": "2026-01-02", "price": "1.00"}},
    )
    assert err.status_code == 500 and emu.payments(a, inv["id"]) == inv["payments"]
    call(emu, tok, "GET", f"/{a}/sales_invoices/{inv['id']}.json")
    assert emu.count_calls() == 3
    assert emu.count_calls(administration_id=a, method="POST") == 2
    assert emu.count_calls(path_contains="/payments") == 1
    assert emu.calls[-1]["status"] == 200 and emu.calls[-1]["administration_id"] == a


def test_control_surface_and_html_view(moneybird_emulator: MoneybirdEmulator) -> None:
    emu = moneybird_emulator
    a = adm0(emu)
    base = emu.server.url
    assert "Moneybird-emulator" in requests.get(f"{base}/_emulator/", timeout=10).text
    inv = first(emu, "late")
    listing = requests.get(f"{base}/_emulator/{a}", timeout=10).text
    assert inv["invoice_id"] in listing
    page = requests.get(f"{base}/_emulator/{a}/sales_invoices/{inv['id']}", timeout=10).text
    assert "Markeer als betaald" in page
    r = requests.post(f"{base}/_emulator/{a}/sales_invoices/{inv['id']}/mark_paid", timeout=10)
    assert r.status_code == 200 and emu.invoice(a, inv["id"])["state"] == "paid"

    new = emu.create_invoice(a, amount=Decimal("242.00"), due_date=today() - timedelta(days=3))
    assert new["state"] == "late" and new["total_price_incl_tax"] == "242.0"
    credit = emu.credit(a, new["id"])
    assert (
        credit["original_sales_invoice_id"] == new["id"]
        and credit["total_price_incl_tax"] == "-242.0"
    )
    assert emu.invoice(a, new["id"])["payments"][0]["credit_invoice_id"] == credit["id"]
    other = first(emu, "late")
    assert emu.mark_uncollectible(a, other["id"])["state"] == "uncollectible"
    contact = emu.update_contact(a, other["contact_id"], email="nieuw@voorbeeld.example")
    assert contact["version"] > other["contact"]["version"]
    emu.delete_invoice(a, other["id"])
    assert other["id"] not in {i["id"] for i in emu.invoices(a)}


def test_deterministic_seed_and_contract_checker_catches_errors() -> None:
    one = MoneybirdEmulator(seed=3, contacts=10, invoices=30)
    two = MoneybirdEmulator(seed=3, contacts=10, invoices=30)
    assert one.invoices(one.administration_ids()[0]) == two.invoices(two.administration_ids()[0])
    contacts = one.contacts(one.administration_ids()[0])
    assert all(c["email"].endswith(".example") for c in contacts)
    assert any(c["company_name"] for c in contacts) and any(not c["company_name"] for c in contacts)

    req = Request(
        EnvironBuilder(
            method="GET",
            path="/api/v2/123/financial_accounts.json",
            headers={"Authorization": "Bearer x"},
        ).get_environ()
    )
    bad = flask.Response(
        json.dumps([{"id": 5.5, "currency": 1}]), status=200, content_type="application/json"
    )
    assert validate_exchange(req, bad)
    undocumented = flask.Response("{}", status=418, content_type="application/json")
    assert validate_exchange(req, undocumented)


def test_invoice_states_are_the_states_the_api_shows_also_after_time_moves() -> None:
    now = {"t": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}
    emu = MoneybirdEmulator(seed=5, contacts=20, invoices=200, now=lambda: now["t"])
    a = adm0(emu)
    before = emu.invoice_states(a)
    assert before == {i["id"]: i["state"] for i in emu.invoices(a)}
    now["t"] += timedelta(days=90)  # open invoices fall due
    after = emu.invoice_states(a)
    assert after == {i["id"]: i["state"] for i in emu.invoices(a)}
    assert any(before[i] == "open" and after[i] == "late" for i in before)
