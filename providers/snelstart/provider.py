"""SnelStart as a provider: a koppelsleutel per administration, our subscription key on every
call, and a conservative pace until SnelStart's real limits are known."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from providers.base import (
    Capabilities,
    ProviderInfo,
    ReconnectRequired,
    Rejected,
    Tenant,
    TokenSet,
    TokenSource,
    Transient,
    WebhookEvent,
    WebhookRejected,
)
from providers.context import LedgerContext
from providers.http import DEFAULT_TIMEOUT, ApiClient, RateBudget
from providers.snelstart import mapping
from providers.snelstart.apim import interpret_401, observe_quota
from providers.snelstart.auth import KeyTokens, request_token
from providers.snelstart.client import SnelStartLedger
from providers.snelstart.feed import SWEEP_EVERY
from providers.snelstart.odata import AMSTERDAM

BASE_URL = "https://b2bapi.snelstart.nl/v2"
AUTH_URL = "https://auth.snelstart.nl/b2b/token"
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"
# SnelStart publishes no limits (reference/next-ledgers.md §3.2, UNCERTAIN). One call a second
# per administration keeps us polite; a 429 with Retry-After blocks the administration's budget.
RATE_LIMIT = 60
RATE_WINDOW_SECONDS = 60
CAPABILITIES = Capabilities(
    invoice_notes=True,  # as PDF documents on the sales booking
    register_payment=True,  # a bank booking with a chosen bank journal, else a document
    pause_own_reminders=False,  # the API has nothing for SnelStart's own reminders
    send_own_reminder=False,
    invoice_pdf=False,  # no PDF download for sales invoices
    webhooks=False,  # none: the sync interval polls
    payment_setting_choices=True,  # bank journals from /dagboeken
    invoice_documents=True,  # a step's own PDF (the Profitletter) goes on the sales booking
)


class SnelStartProvider:
    def __init__(
        self,
        subscription_key: str,
        base_url: str = BASE_URL,
        auth_url: str = AUTH_URL,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        budget: Any = None,
        rate_limit: int = RATE_LIMIT,
        sweep_every: timedelta = SWEEP_EVERY,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url
        self.timeout = timeout
        self.budget = budget if budget is not None else RateBudget(rate_limit,
                                                                   RATE_WINDOW_SECONDS)
        self.sweep_every = sweep_every
        self.now = now or (lambda: datetime.now(UTC))
        # The subscription key goes on every API call, never to the token endpoint.
        self.session = requests.Session()
        self.session.headers[SUBSCRIPTION_HEADER] = subscription_key
        self.auth_session = requests.Session()
        self.info = ProviderInfo(
            key="snelstart",
            display_name="SnelStart",
            auth_kind="client-key",
            authorize_url="",
            token_url=auth_url,
            scopes=(),
            capabilities=CAPABILITIES,
            tenant_label="administratie",
            refresh_margin_seconds=60,
        )

    # -- the key --------------------------------------------------------------------------

    def exchange_key(self, key: str) -> TokenSet:
        """An access token for the koppelsleutel; the key is the TokenSet's refresh token."""
        return request_token(self.auth_session, self.auth_url, key, self.timeout)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self.exchange_key(refresh_token)

    def tokens_for(self, key: str) -> KeyTokens:
        """A token source straight from the key, for tools and tests outside the connector."""
        return KeyTokens(self.exchange_key, key)

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        raise Rejected("SnelStart connects with a key, not an OAuth consent")

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        raise Rejected("SnelStart connects with a key, not an OAuth consent")

    # -- tenants and ledgers --------------------------------------------------------------

    def list_tenants(self, tokens: TokenSource) -> list[Tenant]:
        """A key opens exactly one administration: the one ``/companyInfo`` describes."""
        api = ApiClient(self.base_url, tokens, timeout=self.timeout, session=self.session,
                        interpret_401=interpret_401, observe=observe_quota)
        try:
            info = api.request("GET", "/companyInfo").json()
        except Rejected as exc:
            if exc.status == 403:
                raise ReconnectRequired("SnelStart key lacks a permission",
                                        missing_scope="settings:read") from None
            raise
        except ValueError:
            raise Transient("SnelStart company info is not JSON") from None
        if not isinstance(info, dict):
            raise Rejected("SnelStart company info is not an object")
        return [mapping.tenant(info)]

    def ledger(self, tenant_id: str, tokens: TokenSource) -> SnelStartLedger:
        context = LedgerContext(
            tenant_id=tenant_id, tokens=tokens, base_url=self.base_url, session=self.session,
            today=lambda: self.now().astimezone(AMSTERDAM).date(), budget=self.budget,
            timeout=self.timeout, observe=observe_quota, interpret_401=interpret_401)
        return SnelStartLedger(context, now=self.now, sweep_every=self.sweep_every)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str],
                       secret: str) -> list[WebhookEvent]:
        raise WebhookRejected("SnelStart sends no webhooks")
