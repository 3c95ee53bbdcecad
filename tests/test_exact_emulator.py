"""Exact Online emulator tests over real HTTP; the fixture fails a test on protocol violations."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
import requests
import time_machine
from werkzeug.serving import make_server

from providers.exact_online.emulator import (
    EARLY_REFRESH_BODY,
    OLD_REFRESH_BODY,
    SELECT_MESSAGE,
    ExactEmulator,
)
from providers.exact_online.emulator_data import odata_date

REDIRECT = "http://127.0.0.1:9/callback"
START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


class Clock:
    """A hand-driven clock for the emulator's ``now``."""

    def __init__(self, start: datetime = START) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


def api(
    emu: ExactEmulator, token: str, path: str, method: str = "GET", **kw: Any
) -> requests.Response:
    """Call ``/api/v1{path}`` (or an absolute URL such as ``__next``) with a bearer token."""
    assert emu.server is not None
    url = path if path.startswith("http") else f"{emu.server.url}/api/v1{path}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    headers.update(kw.pop("headers", {}))
    kw.setdefault("timeout", 10)
    return requests.request(method, url, headers=headers, **kw)


def token_call(emu: ExactEmulator, **form: str) -> requests.Response:
    assert emu.server is not None
    form.setdefault("client_id", emu.client_id)
    form.setdefault("client_secret", emu.client_secret)
    return requests.post(f"{emu.server.url}/api/oauth2/token", data=form, timeout=10)


def refresh(emu: ExactEmulator, rt: str) -> requests.Response:
    return token_call(emu, grant_type="refresh_token", refresh_token=rt)


def error_value(resp: requests.Response) -> str:
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert set(body["error"]["message"]) == {"lang", "value"}
    return body["error"]["message"]["value"]


def read_all(emu: ExactEmulator, token: str, path: str, params: dict[str, str]) -> list[dict]:
    """Follow ``__next`` verbatim; returns all rows and asserts page sizes on the way."""
    rows: list[dict] = []
    resp = api(emu, token, path, params=params)
    while True:
        assert resp.status_code == 200, resp.text
        d = resp.json()["d"]
        rows.extend(d["results"])
        if "__next" not in d:
            return rows
        resp = api(emu, token, d["__next"])


def kinds(emu: ExactEmulator) -> list[str]:
    return [v["kind"] for v in emu.take_violations()]


# ---------------------------------------------------------------- OAuth


def authorize(emu: ExactEmulator, decision: str = "approve", state: str = "st4te") -> str:
    """Walk the consent page; returns the redirect Location."""
    assert emu.server is not None
    s = requests.Session()
    params = {
        "client_id": emu.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": state,
        "force_login": "0",
    }
    page = s.get(f"{emu.server.url}/api/oauth2/auth", params=params, timeout=10)
    assert page.status_code == 200 and "Toegang verlenen" in page.text
    assert "Toestaan" in page.text and "Weigeren" in page.text
    boxes = re.findall(r'name="division" value="(\d+)"', page.text)
    assert len(boxes) == 2
    form = {k: v for k, v in params.items() if k != "force_login"}
    form.update(decision=decision)
    resp = s.post(
        f"{emu.server.url}/api/oauth2/auth",
        data={**form, "division": boxes},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302
    return resp.headers["Location"]


def test_oauth_code_flow(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    location = authorize(emu)
    q = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and q["state"] == ["st4te"]
    code = q["code"][0]
    assert "!" in code  # real codes carry '!' and must be form-encoded on exchange
    resp = token_call(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["expires_in"] == "600" and body["token_type"] == "bearer"
    me = api(emu, body["access_token"], "/current/Me", params={"$select": "UserID,FullName"})
    assert me.status_code == 200 and me.json()["d"]["results"][0]["FullName"]
    # The code is single-use.
    again = token_call(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    assert kinds(emu) == ["authorization_code_reused"]
    # Deny.
    denied = parse_qs(urlsplit(authorize(emu, decision="deny")).query)
    assert denied == {"error": ["access_denied"], "state": ["st4te"]}
    assert emu.count_token_events("issued") == 1


def test_redirect_uri_must_match_exactly(make_exact_emulator: Callable[..., ExactEmulator]) -> None:
    emu = make_exact_emulator(redirect_uri=REDIRECT)
    assert emu.server is not None
    bad = requests.get(
        f"{emu.server.url}/api/oauth2/auth",
        params={
            "client_id": emu.client_id,
            "redirect_uri": REDIRECT + "/",
            "response_type": "code",
        },
        timeout=10,
    )
    assert bad.status_code == 400 and "redirect_uri" in bad.text
    code = parse_qs(urlsplit(authorize(emu)).query)["code"][0]
    other = token_call(emu, grant_type="authorization_code", code=code, redirect_uri=REDIRECT + "x")
    assert other.status_code == 400 and other.json() == {"error": "invalid_grant"}


def test_bad_client(exact_emulator: ExactEmulator) -> None:
    _, rt = exact_emulator.issue_token()
    resp = token_call(
        exact_emulator, grant_type="refresh_token", refresh_token=rt, client_secret="nope"
    )
    assert resp.status_code == 400 and resp.json() == {"error": "invalid_client"}


def test_access_token_lives_600_seconds(make_exact_emulator: Callable[..., ExactEmulator]) -> None:
    clock = Clock()
    emu = make_exact_emulator(now=clock)
    at, _ = emu.issue_token()
    clock.advance(seconds=599)
    assert api(emu, at, "/current/Me").status_code == 200
    clock.advance(seconds=1)
    resp = api(emu, at, "/current/Me")
    assert resp.status_code == 401
    assert kinds(emu) == ["expired_access_token"]


def test_early_refresh_rejected_then_allowed(
    make_exact_emulator: Callable[..., ExactEmulator],
) -> None:
    clock = Clock()
    emu = make_exact_emulator(now=clock)
    _, rt = emu.issue_token()
    clock.advance(seconds=569)
    early = refresh(emu, rt)
    assert early.status_code == 400 and early.json() == EARLY_REFRESH_BODY
    assert early.headers["Reason"].startswith("TooEarlyToRefreshTokens")
    assert kinds(emu) == ["early_refresh"]
    clock.advance(seconds=1)  # 570 s after issue: allowed, and the same RT still works
    ok = refresh(emu, rt)
    assert ok.status_code == 200 and ok.json()["refresh_token"] != rt
    outcomes = [e["outcome"] for e in emu.token_events]
    assert outcomes == ["issued", "early_refresh_rejected", "refreshed"]


def test_rotation_and_old_refresh_token(make_exact_emulator: Callable[..., ExactEmulator]) -> None:
    clock = Clock()
    emu = make_exact_emulator(now=clock)
    _, rt1 = emu.issue_token()
    for _ in range(5):  # many lifetimes: each refresh rotates
        clock.advance(seconds=590)
        resp = refresh(emu, rt1)
        assert resp.status_code == 200, resp.text
        rt2 = resp.json()["refresh_token"]
        assert rt2 != rt1
        old = rt1
        rt1 = rt2
    assert emu.count_token_events("old_refresh_token_used") == 0
    clock.advance(seconds=600)
    reused = refresh(emu, old)
    assert reused.status_code == 401 and reused.json() == OLD_REFRESH_BODY
    assert emu.count_token_events("old_refresh_token_used") == 1
    assert kinds(emu) == ["old_refresh_token_used"]
    assert refresh(emu, rt1).status_code == 200  # the newest one is untouched


def test_refresh_token_expires_after_30_days(
    make_exact_emulator: Callable[..., ExactEmulator],
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        emu = make_exact_emulator()
        _, rt = emu.issue_token()
        traveller.shift(timedelta(days=30))
        resp = refresh(emu, rt)
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"] == "invalid_request"
    assert re.fullmatch(
        r"The refresh token expired at 4/13/2025 9:00:00 AM and it is now 4/13/2025 9:00:00 AM\.",
        body["error_description"],
    )
    assert emu.count_token_events("expired_refresh_token") == 1


def test_accelerated_clock(make_exact_emulator: Callable[..., ExactEmulator]) -> None:
    emu = make_exact_emulator(clock_speed=200)
    at, rt = emu.issue_token()
    assert api(emu, at, "/current/Me").status_code == 200
    time.sleep(2.9)  # 570+ emulated seconds: refresh is allowed now
    resp = refresh(emu, rt)
    assert resp.status_code == 200, resp.text
    time.sleep(0.4)  # the first access token is past 600 s
    assert api(emu, at, "/current/Me").status_code == 401
    assert api(emu, resp.json()["access_token"], "/current/Me").status_code == 200
    assert kinds(emu) == ["expired_access_token"]


# ---------------------------------------------------------------- divisions and OData


def test_me_and_divisions(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    big, small = emu.division_codes()
    me = api(emu, at, "/current/Me", params={"$select": "CurrentDivision,UserID"}).json()
    row = me["d"]["results"][0]
    assert row["CurrentDivision"] == small  # the user's browser division, not the big one
    assert set(row) == {"__metadata", "CurrentDivision", "UserID"}
    divs = api(emu, at, f"/{row['CurrentDivision']}/system/Divisions").json()["d"]["results"]
    assert [d["Code"] for d in divs] == [big, small]
    assert all(isinstance(d["Code"], int) and d["Description"] for d in divs)
    assert [d["Current"] for d in divs] == [False, True]
    scoped, _ = emu.issue_token(divisions=[small])
    resp = api(
        emu, scoped, f"/{big}/crm/Accounts", params={"$select": "ID", "$filter": "IsSales eq true"}
    )
    assert resp.status_code == 403 and error_value(resp).startswith("Forbidden - User division")


def test_mandatory_select_and_filter(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    no_select = api(emu, at, f"/{div}/crm/Accounts", params={"$filter": "IsSales eq true"})
    assert no_select.status_code == 400 and error_value(no_select) == SELECT_MESSAGE
    no_filter = api(emu, at, f"/{div}/crm/Accounts", params={"$select": "ID,Name"})
    assert no_filter.status_code == 400
    assert error_value(no_filter).startswith("This endpoint has mandatory filtering applied.")
    assert "Blocked, ChamberOfCommerce, City, Code" in error_value(no_filter)
    sync = api(emu, at, f"/{div}/sync/CRM/Accounts", params={"$select": "ID,Timestamp"})
    assert sync.status_code == 400
    bulk = api(
        emu,
        at,
        f"/{div}/bulk/Cashflow/Receivables",
        params={"$select": "ID", "$filter": "DueDate lt datetime'2025-01-01'"},
    )
    assert bulk.status_code == 400
    assert error_value(bulk) == "Filtering on these fields is not supported: DueDate"
    bad_type = api(
        emu, at, f"/{div}/crm/Accounts", params={"$select": "ID", "$filter": "ID eq 'abc'"}
    )
    assert bad_type.status_code == 400 and "incompatible" in error_value(bad_type)
    nodiv = api(emu, at, "/crm/Accounts", params={"$select": "ID"})
    assert nodiv.status_code == 404
    ok = api(
        emu, at, f"/{div}/crm/Accounts", params={"$select": "ID,Name", "$filter": "IsSales eq true"}
    )
    assert ok.status_code == 200 and len(ok.json()["d"]["results"]) == 60
    assert kinds(emu) == [
        "missing_select",
        "missing_mandatory_filter",
        "missing_mandatory_filter",
        "unsupported_filter",
        "no_division",
    ]
    assert [e["status"] for e in emu.errors] == [400] * 5 + [404]


def test_bulk_and_normal_pages_follow_next(
    make_exact_emulator: Callable[..., ExactEmulator],
) -> None:
    emu = make_exact_emulator(open_items=2300, accounts=200, minutely_limit=500)
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    expected = {it["ID"] for it in emu.open_items(div)}
    params = {"$select": "ID,InvoiceNumber,AmountDC,DueDate", "$filter": "Status eq 20"}
    first = api(emu, at, f"/{div}/bulk/Cashflow/Receivables", params=params).json()["d"]
    assert len(first["results"]) == 1000
    nxt = first["__next"]
    assert nxt.startswith(f"{emu.server.url}/api/v1/{div}/bulk/Cashflow/Receivables?")
    assert "$skiptoken=guid'" in nxt
    rows = read_all(emu, at, f"/{div}/bulk/Cashflow/Receivables", params)
    assert len(rows) == len(expected) == 2300 and {r["ID"] for r in rows} == expected
    # Normal endpoint: 60 per page.
    emu.reset_calls()
    listing = read_all(emu, at, f"/{div}/read/financial/ReceivablesList", {"$select": "HID,Amount"})
    assert len(listing) == 2300
    assert emu.count_calls(path_contains="ReceivablesList") == -(-2300 // 60)
    # $top caps the total and stops paging.
    top = api(emu, at, f"/{div}/read/financial/ReceivablesList", params={"$top": "5"}).json()["d"]
    assert len(top["results"]) == 5 and "__next" not in top


def test_date_and_number_formats(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    resp = api(
        emu,
        at,
        f"/{div}/read/financial/ReceivablesList",
        params={"$select": "HID,Amount,DueDate,InvoiceNumber,AccountId", "$top": "1"},
    )
    raw = resp.text
    row = json.loads(raw, parse_float=Decimal)["d"]["results"][0]
    assert re.fullmatch(r"/Date\(\d+\)/", row["DueDate"])
    item = emu.item(div, row["InvoiceNumber"])
    assert row["DueDate"] == odata_date(item["DueDate"])
    ms = int(row["DueDate"][6:-2])
    assert ms % 86_400_000 == 0  # dates are midnight UTC
    assert row["Amount"] == item["AmountDC"]
    assert re.search(r'"Amount":-?\d+\.\d{2}[,}]', raw)  # a JSON number with 2 decimals
    assert re.fullmatch(r"[0-9a-f-]{36}", row["AccountId"])


def test_timestamp_sync_payment_and_deleted(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    sel = "ID,Timestamp,IsFullyPaid,LineType,Status,AmountDC,InvoiceNumber"
    path = f"/{div}/sync/Cashflow/PaymentTerms"
    rows = read_all(emu, at, path, {"$select": sel, "$filter": "Timestamp gt 1"})
    assert {r["LineType"] for r in rows} == {20, 30}  # payables too: filter client-side
    stamps = [r["Timestamp"] for r in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    high = max(stamps)
    target = next(i for i in emu.open_items(div) if i["AmountDC"] == i["TransactionAmountDC"])
    emu.pay_item(div, target["InvoiceNumber"])
    changed = read_all(emu, at, path, {"$select": sel, "$filter": f"Timestamp gt {high}L"})
    assert len(changed) == 1
    assert changed[0]["ID"] == target["ID"] and changed[0]["IsFullyPaid"] is True
    assert changed[0]["Status"] == 50 and changed[0]["Timestamp"] > high
    open_list = read_all(emu, at, f"/{div}/read/financial/ReceivablesList", {"$select": "HID"})
    assert target["HID"] not in {r["HID"] for r in open_list}
    # Accounts: one update, one incremental row.
    acc_rows = read_all(
        emu,
        at,
        f"/{div}/sync/CRM/Accounts",
        {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1"},
    )
    acc_high = max(r["Timestamp"] for r in acc_rows)
    emu.update_account(div, target["Account"], Email="nieuw@debiteur.example")
    acc_changed = read_all(
        emu,
        at,
        f"/{div}/sync/CRM/Accounts",
        {"$select": "ID,Email,Timestamp", "$filter": f"Timestamp gt {acc_high}L"},
    )
    assert [(r["ID"], r["Email"]) for r in acc_changed] == [
        (target["Account"], "nieuw@debiteur.example")
    ]
    # Deletion: gone from the lists, present in sync/Deleted.
    victim = emu.open_items(div)[0]
    del_high = emu.item(div, emu.open_items(div)[1]["ID"])["Timestamp"]
    emu.delete_item(div, victim["EntryID"])
    deleted = read_all(
        emu,
        at,
        f"/{div}/sync/Deleted",
        {"$select": "EntityKey,EntityType,Timestamp", "$filter": f"Timestamp gt {del_high}L"},
    )
    assert {"EntityKey": victim["ID"], "EntityType": 10} in [
        {"EntityKey": d["EntityKey"], "EntityType": d["EntityType"]} for d in deleted
    ]
    assert victim["ID"] not in {i["ID"] for i in emu.open_items(div)}


# ---------------------------------------------------------------- rate limits


def test_rate_limit_headers_and_429(make_exact_emulator: Callable[..., ExactEmulator]) -> None:
    clock = Clock(datetime(2025, 3, 14, 9, 0, 10, tzinfo=UTC))
    emu = make_exact_emulator(now=clock)
    at, _ = emu.issue_token()
    big, small = emu.division_codes()
    path = f"/{big}/system/Divisions"
    first = api(emu, at, path)
    h = first.headers
    assert h["X-RateLimit-Limit"] == "5000" and h["X-RateLimit-Remaining"] == "4999"
    assert h["X-RateLimit-Minutely-Limit"] == "60" and h["X-RateLimit-Minutely-Remaining"] == "59"
    assert int(h["X-RateLimit-Minutely-Reset"]) == int(
        datetime(2025, 3, 14, 9, 1, tzinfo=UTC).timestamp() * 1000
    )
    assert int(h["X-RateLimit-Reset"]) == int(datetime(2025, 3, 15, tzinfo=UTC).timestamp() * 1000)
    for _ in range(59):
        assert api(emu, at, path).status_code == 200
    limited = api(emu, at, path)
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Limit" not in limited.headers  # only the limit that was hit
    assert api(emu, at, f"/{small}/system/Divisions").status_code == 200  # per division
    clock.advance(seconds=50)
    assert api(emu, at, path).status_code == 200


def test_daily_limit(make_exact_emulator: Callable[..., ExactEmulator]) -> None:
    emu = make_exact_emulator(daily_limit=3)
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    for _ in range(3):
        assert api(emu, at, f"/{div}/system/Divisions").status_code == 200
    resp = api(emu, at, f"/{div}/system/Divisions")
    assert resp.status_code == 429 and resp.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Limit" not in resp.headers


def test_error_budget_blocks_endpoint(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    for _ in range(10):
        assert api(emu, at, f"/{div}/crm/Accounts", params={"$select": "ID"}).status_code == 400
    good = {"$select": "ID", "$filter": "IsSales eq true"}
    blocked = api(emu, at, f"/{div}/crm/Accounts", params=good)
    assert blocked.status_code == 403 and "blocked" in error_value(blocked)
    assert (
        api(
            emu, at, f"/{div}/crm/Contacts", params={"$select": "ID", "$filter": "Email ne null"}
        ).status_code
        == 200
    )
    found = kinds(emu)
    assert found.count("missing_mandatory_filter") == 10 and "endpoint_blocked" in found
    assert len(emu.errors) == 11


# ---------------------------------------------------------------- write-back


def test_communication_notes(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    item = emu.open_items(div)[0]
    subject = f"[Incasso] Overgedragen – factuur {item['InvoiceNumber']}"
    note = {
        "Account": item["Account"],
        "Subject": subject,
        "Notes": "Dossier 42",
        "Date": "2025-03-14",
    }
    resp = api(emu, at, f"/{div}/activities/CommunicationNotes", "POST", json=note,
               headers={"Prefer": "return=representation"})  # fmt: skip
    assert resp.status_code == 201, resp.text
    created = resp.json()["d"]
    assert created["Subject"] == subject and created["Account"] == item["Account"]
    assert created["Date"] == odata_date(datetime(2025, 3, 14, tzinfo=UTC))
    assert re.fullmatch(r"[0-9a-f-]{36}", created["ID"])
    look = api(
        emu,
        at,
        f"/{div}/activities/CommunicationNotes",
        params={
            "$select": "ID,Subject",
            "$filter": f"Account eq guid'{item['Account']}' and "
            f"substringof('{item['InvoiceNumber']}', Subject) eq true",
        },
    )
    assert look.status_code == 200 and [r["ID"] for r in look.json()["d"]["results"]] == [
        created["ID"]
    ]
    assert [n["Subject"] for n in emu.notes(div, item["Account"])] == [subject]
    missing = api(
        emu, at, f"/{div}/activities/CommunicationNotes", "POST", json={"Account": item["Account"]}
    )
    assert missing.status_code == 400 and error_value(missing) == "Mandatory: Subject"


def test_bank_entry_with_ourref_reduces_open_amount(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    item = next(i for i in emu.open_items(div) if i["AmountDC"] == i["TransactionAmountDC"] > 150)
    gl = api(
        emu,
        at,
        f"/{div}/financial/GLAccounts",
        params={"$select": "ID,Code", "$filter": "Code eq '1350'"},
    ).json()["d"]["results"][0]["ID"]

    def entry_json(amount: Decimal, extra: str = "") -> str:
        """Money goes out as a JSON number with its exact decimals (no float on the way)."""
        return (
            f'{{"JournalCode":"20","BankEntryLines":[{{"Account":"{item["Account"]}",'
            f'"AmountFC":{amount},"GLAccount":"{gl}","OurRef":{item["InvoiceNumber"]}{extra}}}]}}'
        )

    raw = entry_json(Decimal("100.00"), ',"Description":"Via incassopartner","Date":"2025-03-14"')
    resp = api(emu, at, f"/{div}/financialtransaction/BankEntries", "POST", data=raw,
               headers={"Content-Type": "application/json"})  # fmt: skip
    assert resp.status_code == 201, resp.text
    entry = resp.json()["d"]
    assert entry["JournalCode"] == "20" and len(entry["BankEntryLines"]["results"]) == 1
    after = emu.item(div, item["ID"])
    assert after["AmountDC"] == item["AmountDC"] - Decimal("100.00")
    assert after["IsFullyPaid"] is False and after["Timestamp"] > item["Timestamp"]
    rest = after["AmountDC"]
    second = api(emu, at, f"/{div}/financialtransaction/BankEntries", "POST",
                 data=entry_json(rest), headers={"Content-Type": "application/json"})  # fmt: skip
    assert second.status_code == 201
    assert emu.item(div, item["ID"])["IsFullyPaid"] is True
    assert item["ID"] not in {i["ID"] for i in emu.open_items(div)}
    assert [p["applied"] for p in emu.payments(div)] == [Decimal("100.00"), rest]
    bad = {"JournalCode": "20", "BankEntryLines": [{"AmountFC": 1}]}
    resp = api(emu, at, f"/{div}/financialtransaction/BankEntries", "POST", json=bad)
    assert resp.status_code == 400 and error_value(resp) == "Mandatory: GLAccount"


# ---------------------------------------------------------------- webhooks


class Receiver:
    """A loopback HTTP endpoint recording raw bodies; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[bytes, str | None]] = []
        app = flask.Flask("receiver")

        @app.post("/hook")
        def hook() -> tuple[str, int]:
            self.requests.append(
                (flask.request.get_data(), flask.request.headers.get("Content-Length"))
            )
            return "", self.status

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_webhook_validation_and_signed_delivery(
    exact_emulator: ExactEmulator, receiver: Receiver
) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    url = f"/{div}/webhooks/WebhookSubscriptions"
    resp = api(emu, at, url, "POST", json={"CallbackURL": receiver.url, "Topic": "BankEntries"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["d"]["Topic"] == "BankEntries"
    assert receiver.requests == [(b"", "0")]  # the empty validation POST
    item = emu.open_items(div)[0]
    emu.pay_item(div, item["ID"])
    assert emu.wait_for_deliveries(5)
    raw = receiver.requests[-1][0]
    m = re.fullmatch(rb'\{"Content":(.*),"HashCode":"([0-9A-F]{64})"\}', raw, re.S)
    assert m, raw
    expected = hmac.new(emu.webhook_secret.encode(), m.group(1), hashlib.sha256).hexdigest().upper()
    assert hmac.compare_digest(expected.encode(), m.group(2))
    content = json.loads(m.group(1))
    assert content["Topic"] == "BankEntries" and content["Action"] == "Create"
    assert content["Division"] == div and content["ClientId"] == emu.client_id
    assert content["ExactOnlineEndpoint"].endswith(
        f"/api/v1/{div}/financialtransaction/BankEntries(guid'{content['Key']}')"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", content["EventCreatedOn"])
    entry = api(emu, at, content["ExactOnlineEndpoint"], params={"$select": "EntryID,JournalCode"})
    assert entry.status_code == 200 and entry.json()["d"]["results"][0]["EntryID"] == content["Key"]
    listed = api(emu, at, url).json()["d"]["results"]
    assert [s["CallbackURL"] for s in listed] == [receiver.url]
    assert api(emu, at, f"{url}(guid'{listed[0]['ID']}')", "DELETE").status_code == 204


def test_webhook_validation_failure(exact_emulator: ExactEmulator) -> None:
    failing = Receiver(status=500)
    try:
        at, _ = exact_emulator.issue_token()
        div = exact_emulator.division_codes()[0]
        resp = api(exact_emulator, at, f"/{div}/webhooks/WebhookSubscriptions", "POST",
                   json={"CallbackURL": failing.url, "Topic": "Accounts"})  # fmt: skip
        assert resp.status_code == 500
        assert error_value(resp) == "Invalid: Post to callback URL endpoint returns 500"
    finally:
        failing.server.shutdown()


# ---------------------------------------------------------------- test surface


def test_inject_delay_leaves_write_applied(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    div = emu.division_codes()[0]
    account = emu.open_items(div)[0]["Account"]
    emu.inject_delay("POST", "CommunicationNotes", 1.0)
    with pytest.raises(requests.ReadTimeout):
        api(emu, at, f"/{div}/activities/CommunicationNotes", "POST",
            json={"Account": account, "Subject": "Aanmaning 1"}, timeout=0.3)  # fmt: skip
    assert [n["Subject"] for n in emu.notes(div, account)] == ["Aanmaning 1"]


def test_inject_error_and_call_counting(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    at, _ = emu.issue_token()
    big, small = emu.division_codes()
    emu.inject_error("POST", "CommunicationNotes", status=503, times=1)
    account = emu.open_items(big)[0]["Account"]
    note = {"Account": account, "Subject": "x"}
    assert (
        api(emu, at, f"/{big}/activities/CommunicationNotes", "POST", json=note).status_code == 503
    )
    assert emu.notes(big) == []
    assert (
        api(emu, at, f"/{big}/activities/CommunicationNotes", "POST", json=note).status_code == 201
    )
    api(emu, at, f"/{small}/system/Divisions")
    assert emu.count_calls() == 3
    assert emu.count_calls(division=big, method="POST") == 2
    assert emu.count_calls(path_contains="system/Divisions") == 1
    assert all(c["at"].tzinfo is not None for c in emu.calls)
    emu.reset_calls()
    assert emu.count_calls() == 0


def test_html_view_and_pay_button(exact_emulator: ExactEmulator) -> None:
    emu = exact_emulator
    assert emu.server is not None
    div = emu.division_codes()[0]
    index = requests.get(f"{emu.server.url}/_emulator/", timeout=10)
    assert index.status_code == 200 and "Incasso Demo B.V." in index.text
    item = emu.open_items(div)[0]
    page = requests.get(f"{emu.server.url}/_emulator/{div}/accounts/{item['Account']}", timeout=10)
    assert "Markeer als betaald" in page.text
    resp = requests.post(f"{emu.server.url}/_emulator/{div}/items/{item['ID']}/pay", timeout=10)
    assert resp.status_code == 200 and emu.item(div, item["ID"])["IsFullyPaid"] is True


def test_seed_data_is_dutch_and_fast() -> None:
    started = time.perf_counter()
    emu = ExactEmulator(seed=3, accounts=1000, open_items=5000)
    assert time.perf_counter() - started < 2.0
    div = emu.division_codes()[0]
    items = emu.open_items(div)
    assert len(items) == 5000
    today = emu.now().date()
    overdue = sum(1 for i in items if i["DueDate"] < today)
    assert 0.8 * len(items) < overdue < len(items)
    assert any((today - i["DueDate"]).days > 730 for i in items)
    assert any(i["AmountDC"] < i["TransactionAmountDC"] for i in items)  # partially paid
    assert all(i["AmountDC"] == i["AmountDC"].quantize(Decimal("0.01")) for i in items)
    accounts = {a["ID"]: a for a in emu.accounts(div)}
    contacts = {c["ID"]: c for c in emu.contacts(div)}
    consumers = [a for a in accounts.values() if a["IsSales"] and not a["ChamberOfCommerce"]]
    businesses = [a for a in accounts.values() if a["ChamberOfCommerce"]]
    assert consumers and businesses
    assert all(contacts[a["MainContact"]]["FullName"] == a["Name"] for a in consumers)
    assert all(a["Email"].endswith(".example") for a in accounts.values())
    assert all(len(a["Code"]) == 18 and a["Code"].strip().isdigit() for a in accounts.values())
    mobiles = [contacts[a["MainContact"]]["Mobile"] for a in consumers]
    assert all(re.fullmatch(r"(06|\+31 6)[- 0-9]+", m) for m in mobiles)
    invoice_addresses = [a for a in emu.addresses(div) if a["Type"] == 3]
    assert len(invoice_addresses) == len(accounts)
