"""Moneybird as a provider: OAuth (via Authlib), administrations, ledgers, webhooks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

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
)
from providers.http import DEFAULT_TIMEOUT, ApiClient, RateBudget
from providers.moneybird import mapping, webhooks
from providers.moneybird.client import MoneybirdLedger

SCOPES = ("sales_invoices", "settings")
# Moneybird allows 150 requests per 5 minutes; leave a little for the creditor's own tools.
RATE_LIMIT = 140
RATE_WINDOW_SECONDS = 300
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


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
                debtor_notes=True,
                register_payment=True,
                pause_own_reminders=True,
                send_own_reminder=True,
                invoice_pdf=True,
                webhooks=True,
                incremental_sync=True,
                payment_setting_choices=True,
            ),
            tenant_label="administratie",
        )

    # -- OAuth ----------------------------------------------------------------------------

    def _oauth(self, redirect_uri: str | None = None) -> OAuth2Session:
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=" ".join(SCOPES),
            redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            default_timeout=self.timeout,
        )

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        url, _ = self._oauth(redirect_uri).create_authorization_url(
            self.info.authorize_url, state=state
        )
        return url

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        try:
            token = self._oauth(redirect_uri).fetch_token(
                self.info.token_url, code=code, grant_type="authorization_code"
            )
        except AuthlibBaseError as exc:
            raise Rejected(f"Moneybird refused the authorization code ({exc.error})") from None
        except requests.RequestException:
            raise Transient("Moneybird token endpoint unreachable") from None
        return self._token_set(token)

    def refresh(self, refresh_token: str) -> TokenSet:
        try:
            token = self._oauth().refresh_token(self.info.token_url, refresh_token=refresh_token)
        except AuthlibBaseError as exc:
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise ReconnectRequired(f"Moneybird refused the refresh token ({exc.error})") \
                    from None
            raise Transient(f"Moneybird token refresh failed ({exc.error})") from None
        except requests.RequestException:
            raise Transient("Moneybird token endpoint unreachable") from None
        token_set = self._token_set(token)
        if token_set.refresh_token is None:  # not rotated: keep using the one we have
            token_set = TokenSet(token_set.access_token, refresh_token, token_set.expires_in,
                                 token_set.scope)
        return token_set

    @staticmethod
    def _token_set(token: Mapping[str, object]) -> TokenSet:
        expires_in = token.get("expires_in")
        refresh = token.get("refresh_token")
        scope = token.get("scope")
        return TokenSet(
            access_token=str(token["access_token"]),
            refresh_token=str(refresh) if refresh else None,
            expires_in=int(str(expires_in)) if expires_in not in (None, "") else None,
            scope=str(scope) if scope else None,
        )

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
        return MoneybirdLedger(self, tenant_id, tokens)

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], secret: str
    ) -> list[WebhookEvent]:
        return webhooks.parse(raw_body, headers, secret)
