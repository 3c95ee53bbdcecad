"""Driving Xero like a person and a token store would: consent, a provider for an emulator."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from providers.base import TokenSet
from providers.xero import XeroProvider
from providers.xero.emulator import XeroEmulator
from tests.helpers import hidden_fields

REDIRECT_URI = "http://127.0.0.1:9/callback"


def provider_for(emulator: XeroEmulator, **kwargs: Any) -> XeroProvider:
    return XeroProvider(emulator.client_id, emulator.client_secret, emulator.webhook_key,
                        base_url=emulator.public_url or "", identity_url=emulator.public_url or "",
                        login_url=emulator.public_url or "", **kwargs)


def consent(provider: XeroProvider, tenants: list[str] | None = None) -> TokenSet:
    """The consent page like a person: choose organisations, approve, trade the code."""
    session = requests.Session()
    page = session.get(provider.authorization_url(REDIRECT_URI, "s1"), timeout=10)
    assert page.status_code == 200, page.text[:300]
    form = hidden_fields(page.text)
    offered = re.findall(r'name="tenant" value="([^"]+)"', page.text)
    form.update(decision="approve")
    data = list(form.items()) + [("tenant", t) for t in (tenants or offered[:1])]
    action = page.url.split("?")[0]
    answer = session.post(action, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["s1"]
    return provider.exchange_code(query["code"][0], REDIRECT_URI)


class MemoryTokens:
    """A TokenSource over one pair in memory, refreshing (and rotating) through the provider."""

    def __init__(self, provider: XeroProvider, tokens: TokenSet) -> None:
        self.provider = provider
        self.tokens = tokens
        self.refreshes = 0

    def access_token(self) -> str:
        return self.tokens.access_token

    def refresh_after_rejection(self, rejected_token: str) -> str:
        if rejected_token == self.tokens.access_token:
            assert self.tokens.refresh_token
            self.tokens = self.provider.refresh(self.tokens.refresh_token)
            self.refreshes += 1
        return self.tokens.access_token


def connect_company(services: Any, emulator: XeroEmulator, tenant: str) -> str:
    """Connect one organisation to the connector without a browser; the company's id."""
    from connector import connections

    provider = provider_for(emulator)
    tokens = consent(provider, [tenant])
    grant_id = connections.create_grant(services, "xero", tokens)
    tenants = [t for t in connections.list_tenants(services, grant_id) if t.id == tenant]
    [company_id] = connections.connect_tenants(services, grant_id, tenants)
    return company_id
