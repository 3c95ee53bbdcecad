"""The Xero emulator keeps Xero's rules: rotation, tenants, limits, idempotency, scopes.

Every exchange below is validated against Xero's OpenAPI documents (tests.fixtures_xero).
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.xero_helpers import REDIRECT_URI, consent, provider_for

pytest_plugins = ["tests.fixtures_xero"]


def authorize(emulator, scope: str, tenant: str | None = None) -> dict:
    """Consent with ``scope`` and trade the code: the token endpoint's JSON."""
    base = emulator.public_url
    query = urlencode({"response_type": "code", "client_id": emulator.client_id,
                       "redirect_uri": REDIRECT_URI, "scope": scope, "state": "x"})
    page = requests.get(f"{base}/identity/connect/authorize?{query}", timeout=10,
                        allow_redirects=False)
    if page.status_code == 302:
        return parse_qs(urlsplit(page.headers["Location"]).query)
    answer = requests.post(f"{base}/identity/connect/authorize", allow_redirects=False,
                           timeout=10, data={"client_id": emulator.client_id, "state": "x",
                                             "redirect_uri": REDIRECT_URI, "scope": scope,
                                             "decision": "approve",
                                             "tenant": tenant or emulator.tenant_ids()[0]})
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = requests.post(f"{base}/connect/token", auth=(emulator.client_id,
                                                        emulator.client_secret),
                          data={"grant_type": "authorization_code", "code": code,
                                "redirect_uri": REDIRECT_URI}, timeout=10)
    return {**token.json(), "code": code, "status": token.status_code}


def api(emulator, token: str, path: str, tenant: str | None = None, method: str = "GET",
        **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
               **kwargs.pop("headers", {})}
    if tenant:
        headers["xero-tenant-id"] = tenant
    return requests.request(method, f"{emulator.public_url}/api.xro/2.0{path}", timeout=10,
                            headers=headers, **kwargs)


def test_codes_are_single_use_and_offline_access_gives_the_refresh_token(xero_emulator):
    granted = authorize(xero_emulator, "openid accounting.invoices")
    assert granted["status"] == 200 and "refresh_token" not in granted
    again = requests.post(f"{xero_emulator.public_url}/connect/token", timeout=10,
                          auth=(xero_emulator.client_id, xero_emulator.client_secret),
                          data={"grant_type": "authorization_code", "code": granted["code"],
                                "redirect_uri": REDIRECT_URI})
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}
    refused = authorize(xero_emulator, "offline_access accounting.everything")
    assert refused["error"] == ["invalid_scope"]
    wrong = requests.post(f"{xero_emulator.public_url}/connect/token", timeout=10,
                          auth=(xero_emulator.client_id, "wrong"),
                          data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert wrong.json() == {"error": "invalid_client"}


def test_tenant_header_connection_and_scope_are_checked(xero_emulator):
    first, second = xero_emulator.tenant_ids()
    token = authorize(xero_emulator, "offline_access accounting.contacts", first)
    access = token["access_token"]
    assert api(xero_emulator, access, "/Contacts?page=1", first).status_code == 200
    assert api(xero_emulator, access, "/Invoices?page=1", first).status_code == 401  # scope
    assert api(xero_emulator, access, "/Contacts?page=1", second).status_code == 403
    assert api(xero_emulator, access, "/Contacts?page=1").status_code == 400
    assert [v["kind"] for v in xero_emulator.take_violations()] == ["missing_tenant_header"]
    # the contract check saw the same mistake in the request; it was made on purpose here
    assert [e for e in xero_emulator.contract_errors if "xero-tenant-id" in e]
    xero_emulator.contract_errors.clear()


def test_limit_headers_and_the_concurrency_limit(xero_emulator):
    provider = provider_for(xero_emulator)
    tenant = xero_emulator.tenant_ids()[0]
    access = consent(provider, [tenant]).access_token
    first = api(xero_emulator, access, "/Organisation", tenant)
    second = api(xero_emulator, access, "/Organisation", tenant)
    assert int(first.headers["X-MinLimit-Remaining"]) == 59
    assert int(second.headers["X-MinLimit-Remaining"]) == 58
    assert int(second.headers["X-DayLimit-Remaining"]) == 4998
    assert int(second.headers["X-AppMinLimit-Remaining"]) > 0
    xero_emulator.inject_delay("GET", "/Accounts", 1.5, times=5)
    slow = [threading.Thread(target=api, args=(xero_emulator, access, "/Accounts", tenant))
            for _ in range(5)]
    for thread in slow:
        thread.start()
    # the five held calls count until their answers leave: a sixth at once is refused
    blocked = None
    for _ in range(50):
        answer = api(xero_emulator, access, "/Organisation", tenant)
        if answer.status_code == 429:
            blocked = answer
            break
    for thread in slow:
        thread.join()
    assert blocked is not None and blocked.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert blocked.headers["Retry-After"].isdigit()
    assert {v["kind"] for v in xero_emulator.take_violations()} == {"rate_limited"}


def test_an_idempotency_key_answers_the_first_answer_again(xero_emulator):
    provider = provider_for(xero_emulator)
    tenant = xero_emulator.tenant_ids()[0]
    access = consent(provider, [tenant]).access_token
    invoice = next(r for r in xero_emulator.open_invoices(tenant) if r["CurrencyCode"] == "EUR")
    account = next(a for a in xero_emulator.orgs[tenant]["accounts"] if a["Type"] == "BANK")
    body = {"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                          "Account": {"AccountID": account["AccountID"]},
                          "Date": "2026-11-27", "Amount": 1}]}
    once = api(xero_emulator, access, "/Payments", tenant, "PUT", json=body,
               headers={"Idempotency-Key": "k1"})
    twice = api(xero_emulator, access, "/Payments", tenant, "PUT", json=body,
                headers={"Idempotency-Key": "k1"})
    assert once.status_code == twice.status_code == 200
    assert once.json()["Payments"][0]["PaymentID"] == twice.json()["Payments"][0]["PaymentID"]
    assert len(xero_emulator.payments(tenant)) == 1
    other = api(xero_emulator, access, "/Payments", tenant, "PUT", headers={
        "Idempotency-Key": "k1"}, json={**body, "Payments": [{**body["Payments"][0],
                                                               "Amount": 2}]})
    assert other.status_code == 409


def test_history_is_plain_text_of_at_most_4000_characters(xero_emulator):
    provider = provider_for(xero_emulator)
    tenant = xero_emulator.tenant_ids()[0]
    access = consent(provider, [tenant]).access_token
    invoice = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    long = api(xero_emulator, access, f"/Invoices/{invoice}/History", tenant, "PUT",
               json={"HistoryRecords": [{"Details": "x" * 4001}]})
    assert long.status_code == 400 and long.json()["Type"] == "ValidationException"
    ok = api(xero_emulator, access, f"/Invoices/{invoice}/History", tenant, "PUT",
             json={"HistoryRecords": [{"Details": "x" * 4000}]})
    assert ok.status_code == 200
    assert xero_emulator.history(tenant, invoice)[-1] == "x" * 4000


def test_if_modified_since_and_pages(xero_emulator):
    provider = provider_for(xero_emulator)
    tenant = xero_emulator.tenant_ids()[0]
    access = consent(provider, [tenant]).access_token
    page = api(xero_emulator, access, "/Invoices?page=1&pageSize=10", tenant).json()
    assert page["pagination"]["pageSize"] == 10 and len(page["Invoices"]) == 10
    assert page["pagination"]["itemCount"] == len(xero_emulator.orgs[tenant]["invoices"])
    target = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    xero_emulator.pay_invoice(tenant, target, amount=None)
    since = xero_emulator.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    fresh = api(xero_emulator, access, "/Invoices?page=1", tenant,
                headers={"If-Modified-Since": since}).json()["Invoices"]
    assert [r["InvoiceID"] for r in fresh] == [target]


def test_the_pages_for_people_and_the_online_invoice(xero_emulator):
    tenant = xero_emulator.tenant_ids()[0]
    invoice = xero_emulator.open_invoices(tenant)[0]
    base = xero_emulator.public_url
    assert xero_emulator.orgs[tenant]["Name"] in requests.get(f"{base}/_emulator/",
                                                              timeout=10).text
    assert invoice["InvoiceNumber"] in requests.get(f"{base}/_emulator/{tenant}",
                                                    timeout=10).text
    online = f"{base}/_emulator/online/{tenant}/{invoice['InvoiceID']}"
    assert "Betaal" in requests.get(online, timeout=10).text
    paid = requests.post(online, timeout=10)
    assert "betaald" in paid.text and invoice["Status"] == "PAID"
    detail = requests.get(f"{base}/_emulator/{tenant}/invoices/{invoice['InvoiceID']}",
                          timeout=10).text
    assert "Bankafschrift" in detail
