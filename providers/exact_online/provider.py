"""Exact Online as a provider: regions, OAuth with Exact's token rules, divisions, ledgers.

Access tokens live 600 s and may only be refreshed from 570 s after issue (a 30 s margin);
every refresh rotates the refresh token. The connector's token store serialises refreshes;
this class only says what Exact answered, sorted into the error tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from providers.base import (
    Capabilities,
    ProviderInfo,
    ReconnectRequired,
    RefreshTooEarly,
    Rejected,
    Tenant,
    TokenSet,
    TokenSource,
    Transient,
    WebhookEvent,
)
from providers.exact_online import mapping, regions, webhooks
from providers.exact_online.client import ExactLedger
from providers.http import DEFAULT_TIMEOUT, ApiClient, Budgets, RateBudget
from providers.paging import follow_next, odata_page

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Exact allows 60 calls a minute and 5,000 a day per division; keep a little headroom.
MINUTELY_LIMIT = 55
DAILY_LIMIT = 4_900
REFRESH_MARGIN_SECONDS = 30  # refresh in [570 s, 600 s) after issue, never earlier


def _epoch_ms(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC) if value else None
    except ValueError:
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
                debtor_notes=True,
                register_payment=True,  # booked only with journal and G/L account set
                pause_own_reminders=False,
                send_own_reminder=False,
                invoice_pdf=False,
                webhooks=True,
                incremental_sync=True,
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

    # -- OAuth ----------------------------------------------------------------------------

    def _oauth(self, redirect_uri: str | None = None) -> OAuth2Session:
        return OAuth2Session(
            self.client_id, self.client_secret, redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            default_timeout=self.timeout,
        )

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        url, _ = self._oauth(redirect_uri).create_authorization_url(
            self.info.authorize_url, state=state, force_login="0")
        return url

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        try:
            token = self._oauth(redirect_uri).fetch_token(
                self.info.token_url, code=code, grant_type="authorization_code")
        except AuthlibBaseError as exc:
            raise Rejected(f"Exact Online refused the authorization code ({exc.error})") from None
        except (requests.RequestException, ValueError):
            raise Transient("Exact Online token endpoint unreachable") from None
        return _token_set(token)

    def refresh(self, refresh_token: str) -> TokenSet:
        try:
            token = self._oauth().refresh_token(self.info.token_url, refresh_token=refresh_token)
        except AuthlibBaseError as exc:
            description = (exc.description or "").lower()
            if "not expired" in description:
                raise RefreshTooEarly("Exact Online: access token not expired yet") from None
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client") or \
                    "expired" in description or "old refresh token" in description:
                raise ReconnectRequired(
                    f"Exact Online refused the refresh token ({exc.error})") from None
            raise Transient(f"Exact Online token refresh failed ({exc.error})") from None
        except (requests.RequestException, ValueError):
            raise Transient("Exact Online token endpoint unreachable") from None
        return _token_set(token)

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
        return ExactLedger(self, tenant_id, tokens)

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], secret: str
    ) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, headers, secret or self.webhook_secret)


def _first(payload: dict) -> dict:
    body = payload["d"]
    return body["results"][0] if isinstance(body, dict) and "results" in body else body


def _token_set(token: Mapping[str, object]) -> TokenSet:
    expires_in = token.get("expires_in")  # Exact sends a string: "600"
    refresh = token.get("refresh_token")
    return TokenSet(
        access_token=str(token["access_token"]),
        refresh_token=str(refresh) if refresh else None,
        expires_in=int(str(expires_in)) if expires_in not in (None, "") else None,
    )
