"""Connecting a ledger with a pasted key (``auth_kind`` "client-key"), through the plug-ins.

The ledger here is a small fake registered only in this test (the real one comes with its own
package): the connect page, the refused key, the grant that keeps the key only encrypted, and
signing in again with the same key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
import requests
from jinja2 import ChoiceLoader, DictLoader

from connector.models import Company, Connection, Grant
from providers.base import (
    Capabilities,
    Provider,
    ProviderInfo,
    ReconnectRequired,
    Rejected,
    Tenant,
    TokenSet,
    TokenSource,
    Transient,
    WebhookEvent,
)
from providers.plugin import LedgerPlugin, PluginContext
from providers.plugins import PLUGINS
from tests.helpers import csrf_token

GOOD_KEY = "sleutel-6f1c2a9e-0d4b-4e8a-9a51-3c7d8e2f1b00"
DEAD_KEY = "sleutel-ingetrokken-9b7e"
FLAKY_KEY = "sleutel-platform-plat"
HELP = "connect/sleutelboek.html"


@dataclass
class KeyLedgerProvider:
    """A platform whose creditor pastes a key; every key trade is counted."""

    traded: list[str] = field(default_factory=list)
    info: ProviderInfo = field(default_factory=lambda: ProviderInfo(
        key="sleutelboek", display_name="Sleutelboek", auth_kind="client-key",
        authorize_url="", token_url="", scopes=(), capabilities=Capabilities(),
        tenant_label="administratie"))

    def exchange_key(self, key: str) -> TokenSet:
        self.traded.append(key)
        if key == FLAKY_KEY:
            raise Transient("token endpoint unreachable")
        if key != GOOD_KEY:
            raise ReconnectRequired("key refused")
        return TokenSet(f"access-{len(self.traded)}", None, 3600)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self.exchange_key(refresh_token)

    def list_tenants(self, tokens: TokenSource) -> list[Tenant]:
        assert tokens.access_token() == f"access-{len(self.traded)}"  # the stored token
        return [Tenant("adm-1", "Bakkerij De Sleutel"), Tenant("adm-2", "Sleutel Holding")]

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        raise Rejected("no OAuth on a key-based ledger")

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        raise Rejected("no OAuth on a key-based ledger")

    def ledger(self, tenant_id: str, tokens: TokenSource):
        raise Rejected("this test never syncs")

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str],
                       secret: str) -> list[WebhookEvent]:
        raise Rejected("no webhooks")


PROVIDER = KeyLedgerProvider()


def _build(context: PluginContext) -> Provider:
    return PROVIDER


KEY_PLUGIN = LedgerPlugin(key="sleutelboek", slug="sleutelboek", display_name="Sleutelboek",
                          build=_build, key_help_template=HELP)


@pytest.fixture
def key_services(make_services, moneybird_emulator, live_server):
    PROVIDER.traded.clear()
    services = make_services(moneybird_emulator, plugins=(*PLUGINS, KEY_PLUGIN))
    app = live_server.app
    app.jinja_env.loader = ChoiceLoader([
        DictLoader({HELP: "<p id=\"key-help\">Maak in Sleutelboek onder Koppelingen een "
                          "sleutel aan.</p>"}),
        app.jinja_env.loader])
    return services


def _paste(browser: requests.Session, url: str, key: str) -> requests.Response:
    page = browser.get(f"{url}/connect/sleutelboek", timeout=10)
    return browser.post(f"{url}/connect/sleutelboek", timeout=30,
                        data={"csrf_token": csrf_token(page.text), "key": key})


def test_the_connect_page_asks_for_the_key_with_the_plugins_help(key_services):
    url = key_services.settings.public_url
    page = requests.get(f"{url}/connect/sleutelboek", timeout=10)
    assert page.status_code == 200
    assert "<h1>Koppel Sleutelboek</h1>" in page.text
    assert 'id="key-help"' in page.text  # the plug-in's explanation
    assert re.search(r'<input[^>]*type="password"', page.text)
    home = requests.get(f"{url}/", timeout=10).text
    assert 'href="/connect/sleutelboek"' in home  # offered like every ledger
    login = requests.get(f"{url}/login", timeout=10).text
    assert '<a href="/connect/sleutelboek">Sleutelboek</a>' in login


def test_a_refused_key_is_a_clear_message_and_never_echoed_or_logged(key_services, caplog):
    url = key_services.settings.public_url
    caplog.set_level(logging.DEBUG)
    refused = _paste(requests.Session(), url, DEAD_KEY)
    assert refused.status_code == 400
    assert "Sleutelboek accepteert deze sleutel niet." in refused.text
    assert DEAD_KEY not in refused.text
    assert DEAD_KEY not in caplog.text
    flaky = _paste(requests.Session(), url, FLAKY_KEY)
    assert "Sleutelboek is nu niet bereikbaar." in flaky.text and FLAKY_KEY not in flaky.text
    with key_services.db.session() as db:
        assert db.query(Grant).count() == 0  # nothing kept of a key that does not work


def test_a_post_without_the_csrf_token_trades_no_key(key_services):
    url = key_services.settings.public_url
    answer = requests.post(f"{url}/connect/sleutelboek", data={"key": GOOD_KEY}, timeout=10)
    assert answer.status_code == 400
    assert PROVIDER.traded == []


def test_an_empty_key_is_asked_for_again(key_services):
    answer = _paste(requests.Session(), key_services.settings.public_url, "   ")
    assert answer.status_code == 400 and "Plak de koppelsleutel." in answer.text
    assert PROVIDER.traded == []


def test_the_key_connects_keeps_only_encrypted_and_signs_in_again(key_services):
    url = key_services.settings.public_url
    browser = requests.Session()
    chooser = _paste(browser, url, GOOD_KEY)
    assert chooser.url == f"{url}/connect/choose"
    assert "Bakkerij De Sleutel" in chooser.text and "Sleutel Holding" in chooser.text
    done = browser.post(f"{url}/connect/choose", timeout=60, data={
        "csrf_token": csrf_token(chooser.text), "tenants": ["adm-1"]})
    assert "1 administratie gekoppeld. De eerste synchronisatie loopt." in done.text
    assert GOOD_KEY not in chooser.text + done.text
    with key_services.db.session() as db:
        connection = db.query(Connection).one()
        company_id = connection.company_id
        assert (connection.provider, connection.tenant_id) == ("sleutelboek", "adm-1")
        grant = connection.grant
        assert grant.region is None
        assert GOOD_KEY not in (grant.refresh_token_enc or "")  # encrypted
        assert key_services.box.decrypt(grant.refresh_token_enc) == GOOD_KEY  # the key itself
        assert db.get(Company, company_id).provider == "sleutelboek"
    assert done.url == f"{url}/companies/{company_id}"

    # Another browser (no session): the same key proves control of the tenant again.
    again = requests.Session()
    assert "/login?next=" in again.get(f"{url}/companies/{company_id}", timeout=10).url
    chooser = _paste(again, url, GOOD_KEY)
    assert "al gekoppeld" in chooser.text
    page = again.get(f"{url}/companies/{company_id}", timeout=30)
    assert page.status_code == 200 and "Bakkerij De Sleutel" in page.text
    with key_services.db.session() as db:
        connection = db.query(Connection).one()
        assert key_services.box.decrypt(connection.grant.refresh_token_enc) == GOOD_KEY
        assert connection.grant.id != grant.id  # signed in on the new grant


def test_an_oauth_ledger_is_not_offered_a_key_form(key_services):
    url = key_services.settings.public_url
    start = requests.get(f"{url}/connect/moneybird", timeout=10, allow_redirects=False)
    assert start.status_code == 302 and "/oauth/authorize" in start.headers["Location"]
    page = requests.get(f"{url}/connect/exact-online", timeout=10)
    assert 'name="region"' in page.text and 'name="key"' not in page.text
    assert requests.get(f"{url}/connect/nergens", timeout=10).status_code == 404
