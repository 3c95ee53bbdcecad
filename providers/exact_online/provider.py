"""Exact Online as a provider: regions, OAuth with Exact's token rules, divisions, ledgers.

Access tokens live 600 s and may only be refreshed from 570 s after issue (a 30 s margin);
every refresh rotates the refresh token. The connector's token store serialises refreshes;
this class only says what Exact answered, sorted into the error tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime

import requests

from providers.base import (
    Capabilities,
    LedgerError,
    ProviderInfo,
    ReconnectRequired,
    RefreshTooEarly,
    Tenant,
    TokenSet,
    TokenSource,
    WebhookEvent,
)
from providers.context import LedgerContext
from providers.exact_online import mapping, regions, webhooks
from providers.exact_online.client import ExactLedger
from providers.http import DEFAULT_TIMEOUT, ApiClient, Budgets, RateBudget
from providers.oauth import OAuthClient
from providers.paging import follow_next, odata_page
from providers.zones import AMSTERDAM

# Exact allows 60 calls a minute and 5,000 a day per division; keep a little headroom.
MINUTELY_LIMIT = 55
DAILY_LIMIT = 4_900
REFRESH_MARGIN_SECONDS = 30  # refresh in [570 s, 600 s) after issue, never earlier


def _epoch_ms(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC) if value else None
    except ValueError:
        return None


def refresh_refusal(error: str, description: str) -> LedgerError | None:
    """Exact's words for a refused refresh: "not expired" yet (before 570 s: the current token
    keeps working), or an expired or already rotated refresh token (connect again)."""
    if "not expired" in description:
        return RefreshTooEarly("Exact Online: access token not expired yet")
    if "expired" in description or "old refresh token" in description:
        return ReconnectRequired(f"Exact Online refused the refresh token ({error})")
    return None


def observe_rate_limits(response: requests.Response) -> datetime | None:
    """When a spent Exact budget resets (reset headers are epoch milliseconds), else None."""
    headers = response.headers
    resume: list[datetime] = []
    for prefix in ("X-RateLimit-Minutely-", "X-RateLimit-"):
        remaining = headers.get(f"{prefix}Remaining")
        reset = _epoch_ms(headers.get(f"{prefix}Reset"))
        if reset and ((remaining is not None and remaining.strip() == "0")
                      or response.status_code == 429):
            resume.append(reset)
    return max(resume) if resume else None


class ExactOnlineProvider:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        webhook_secret: str,
        *,
        region: str = regions.DEFAULT,
        base_url: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        today: Callable[[], date] | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_secret = webhook_secret
        self.region = region
        self.base_override = base_url
        self.base_url = regions.host(region, base_url)
        self.timeout = timeout
        self.today = today or (lambda: datetime.now(AMSTERDAM).date())
        # Budgets are per division; divisions are unique across regions, so one set serves all.
        self.budgets = budgets or Budgets(RateBudget(MINUTELY_LIMIT, 60),
                                          RateBudget(DAILY_LIMIT, 86_400, max_wait=0))
        self.session = requests.Session()
        self.observe_rate_limits = observe_rate_limits
        self._regional: dict[str, ExactOnlineProvider] = {region: self}
        self.info = ProviderInfo(
            key="exact_online",
            display_name="Exact Online",
            auth_kind="oauth2",
            authorize_url=f"{self.base_url}/api/oauth2/auth",
            token_url=f"{self.base_url}/api/oauth2/token",
            scopes=(),
            capabilities=Capabilities(
                invoice_notes=True,  # a note on the account that names the invoice
                register_payment=True,  # booked only with journal and G/L account set
                pause_own_reminders=False,
                send_own_reminder=False,
                invoice_pdf=False,
                webhooks=True,
            ),
            tenant_label="administratie",
            refresh_margin_seconds=REFRESH_MARGIN_SECONDS,
        )

    def for_region(self, region: str | None) -> ExactOnlineProvider:
        region = region or regions.DEFAULT
        if region not in self._regional:
            regional = ExactOnlineProvider(
                self.client_id, self.client_secret, self.webhook_secret, region=region,
                base_url=self.base_override, timeout=self.timeout, today=self.today,
                budgets=self.budgets)
            regional._regional = self._regional
            self._regional[region] = regional
        return self._regional[region]

    def rate_budgets(self) -> list[object]:
        return list(self.budgets.budgets)

    # -- OAuth ----------------------------------------------------------------------------

    def oauth(self) -> OAuthClient:
        """The region's token endpoint: tokens from one host do not work on another."""
        return OAuthClient("Exact Online", self.client_id, self.client_secret,
                           authorize_url=self.info.authorize_url, token_url=self.info.token_url,
                           timeout=self.timeout, authorize_params={"force_login": "0"},
                           refusal=refresh_refusal)

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        return self.oauth().authorization_url(redirect_uri, state)

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        return self.oauth().exchange_code(code, redirect_uri)

    def refresh(self, refresh_token: str) -> TokenSet:
        return self.oauth().refresh(refresh_token)

    # -- tenants and ledgers --------------------------------------------------------------

    def list_tenants(self, tokens: TokenSource) -> list[Tenant]:
        """The divisions the user may reach; CurrentDivision is only the path to ask through."""
        api = ApiClient(f"{self.base_url}/api/v1", tokens, timeout=self.timeout,
                        session=self.session, observe=self.observe_rate_limits)
        me = api.request("GET", "/current/Me", params={"$select": "CurrentDivision"}).json()
        current = _first(me)["CurrentDivision"]

        def fetch(path: str, params: Mapping[str, str] | None) -> tuple[list, str | None]:
            return odata_page(api.request("GET", path, params=params).json())

        pages = follow_next(fetch, f"/{current}/system/Divisions",
                            {"$select": "Code,Description,Currency,Country,Status"})
        return [mapping.tenant(r) for rows in pages for r in rows]

    def ledger(self, tenant_id: str, tokens: TokenSource) -> ExactLedger:
        return ExactLedger(self.ledger_context(tenant_id, tokens))

    def ledger_context(self, tenant_id: str, tokens: TokenSource) -> LedgerContext:
        """What the division's ledger needs, frozen now: the region's host, the shared
        budgets (per division), Exact's rate-limit headers and its webhook secret."""
        return LedgerContext(
            tenant_id=tenant_id, tokens=tokens,
            base_url=f"{self.base_url}/api/v1/{tenant_id}", session=self.session,
            today=self.today, budget=self.budgets, timeout=self.timeout,
            observe=self.observe_rate_limits, webhook_secret=self.webhook_secret)

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], secret: str
    ) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, headers, secret or self.webhook_secret)


def _first(payload: dict) -> dict:
    body = payload["d"]
    return body["results"][0] if isinstance(body, dict) and "results" in body else body
