"""Driving the product like a person would: the OAuth redirect chain over real HTTP."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterable

import requests

HIDDEN = re.compile(r'<input type="hidden" name="([\w-]+)"(?: id="[\w-]+")? value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def oauth_connect(
    app_url: str,
    emulator_url: str,
    administrations: Iterable[str] | None = None,
    choose: Iterable[str] | None = None,
    session: requests.Session | None = None,
) -> tuple[requests.Session, requests.Response]:
    """Connect → consent in the emulator → callback → choose → the settings page."""
    s = session or requests.Session()
    consent = s.get(f"{app_url}/connect/moneybird", timeout=10)
    assert consent.url.startswith(f"{emulator_url}/oauth/authorize"), consent.url
    data = hidden_fields(consent.text)
    data["decision"] = "approve"
    offered = re.findall(r'name="administration_ids" value="(\d+)"', consent.text)
    data["administration_ids"] = list(administrations) if administrations else offered
    chooser = s.post(f"{emulator_url}/oauth/authorize", data=data, timeout=30)
    assert chooser.status_code == 200, chooser.text[:500]
    assert chooser.url == f"{app_url}/connect/choose", chooser.url
    tenants = list(choose) if choose is not None else re.findall(
        r'name="tenants" value="(\d+)"\s+checked', chooser.text)
    result = s.post(f"{app_url}/connect/choose",
                    data={"csrf_token": csrf_token(chooser.text), "tenants": tenants}, timeout=60)
    return s, result


def wait_until(condition: Callable[[], object], timeout: float = 5.0, step: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def connect_direct(services, emulator, adm: str | None = None, **token_kwargs) -> str:
    """Connect one administration with a pre-issued token (no browser); returns the company id."""
    from connector import connections
    from providers.base import TokenSet

    adm = adm or emulator.administration_ids()[0]
    access, refresh = emulator.issue_token([adm], **token_kwargs)
    grant_id = connections.create_grant(services, "moneybird",
                                        TokenSet(access, refresh, token_kwargs.get("expires_in")))
    tenants = [t for t in connections.list_tenants(services, grant_id) if t.id == adm]
    [company_id] = connections.connect_tenants(services, grant_id, tenants)
    return company_id


UNPAID_STATES = ("open", "pending_payment", "late", "reminded")


def unpaid(emulator, adm: str) -> list[dict]:
    return [i for i in emulator.invoices(adm) if i["state"] in UNPAID_STATES]


def unpaid_ids(emulator, adm: str) -> set[str]:
    """The ids of ``unpaid``, from the Moneybird emulator's states alone (no rendering)."""
    return {i for i, state in emulator.invoice_states(adm).items() if state in UNPAID_STATES}


def go_live(services, company_id: str, live: bool = True) -> None:
    """Take a company out of preview (or back): only a live company's steps reach its ledger."""
    from connector.collection.cases import settings_for

    with services.db.session() as db:
        settings_for(db, company_id).live = live
