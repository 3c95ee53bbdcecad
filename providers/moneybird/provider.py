"""Moneybird as a provider: OAuth (:mod:`providers.oauth`), administrations, ledgers, webhooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

import requests

from providers.base import (
    Capabilities,
    ProviderInfo,
    ReconnectRequired,
    Rejected,
    Tenant,
    TokenSet,
    TokenSource,
    WebhookEvent,
)
from providers.context import LedgerContext
from providers.http import DEFAULT_TIMEOUT, ApiClient, RateBudget
from providers.moneybird import mapping, webhooks
from providers.moneybird.client import MoneybirdLedger
from providers.oauth import OAuthClient
from providers.zones import AMSTERDAM

SCOPES = ("sales_invoices", "settings")
# Moneybird allows 150 requests per 5 minutes; leave a little for the creditor's own tools.
RATE_LIMIT = 140
RATE_WINDOW_SECONDS = 300


class MoneybirdProvider:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str = "https://moneybird.com",
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        rate_limit: int = RATE_LIMIT,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.budget = RateBudget(rate_limit, RATE_WINDOW_SECONDS)
        self.session = requests.Session()
        self.today = today or (lambda: datetime.now(AMSTERDAM).date())
        self.info = ProviderInfo(
            key="moneybird",
            display_name="Moneybird",
            auth_kind="oauth2",
            authorize_url=f"{self.base_url}/oauth/authorize",
            token_url=f"{self.base_url}/oauth/token",
            scopes=SCOPES,
            capabilities=Capabilities(
                invoice_notes=True,
                register_payment=True,
                pause_own_reminders=True,
                send_own_reminder=True,
                invoice_pdf=True,
                webhooks=True,
                payment_setting_choices=True,
            ),
            tenant_label="administratie",
        )

    def rate_budgets(self) -> list[object]:
        return [self.budget]

    # -- OAuth ----------------------------------------------------------------------------

    def oauth(self) -> OAuthClient:
        return OAuthClient("Moneybird", self.client_id, self.client_secret,
                           authorize_url=self.info.authorize_url, token_url=self.info.token_url,
                           scopes=SCOPES, timeout=self.timeout)

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self.oauth().authorization_url(redirect_uri, state)

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        return self.oauth().exchange_code(code, redirect_uri)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self.oauth().refresh(refresh_token)

    @staticmethod
    def interpret_401(response: requests.Response) -> ReconnectRequired | None:
        """A 401 "No access to <scope>" is a missing scope, not a dead token."""
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return None
        if isinstance(error, str) and error.startswith("No access to"):
            scope = error.removeprefix("No access to").strip() or None
            return ReconnectRequired(f"Moneybird grant lacks scope {scope}", missing_scope=scope)
        return None

    # -- tenants and ledgers --------------------------------------------------------------

    def list_tenants(self, tokens: TokenSource) -> list[Tenant]:
        api = ApiClient(f"{self.base_url}/api/v2", tokens, timeout=self.timeout,
                        session=self.session, interpret_401=self.interpret_401)
        rows = api.request("GET", "/administrations.json").json()
        if not isinstance(rows, list):
            raise Rejected("Moneybird administrations answer is not a list")
        return [mapping.tenant(r) for r in rows]

    def ledger(self, tenant_id: str, tokens: TokenSource) -> MoneybirdLedger:
        return MoneybirdLedger(self.ledger_context(tenant_id, tokens))

    def ledger_context(self, tenant_id: str, tokens: TokenSource) -> LedgerContext:
        """What the ledger needs, frozen now (budget, timeout and session as set at this
        moment: the registry shares a database budget, tests lengthen the timeout)."""
        return LedgerContext(
            tenant_id=tenant_id, tokens=tokens,
            base_url=f"{self.base_url}/api/v2/{tenant_id}", session=self.session,
            today=self.today, budget=self.budget, timeout=self.timeout,
            interpret_401=self.interpret_401)

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], secret: str
    ) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, headers, secret)
