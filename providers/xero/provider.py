"""Xero as a provider: OAuth with rotating refresh tokens, organisations, ledgers, webhooks.

Access tokens live 30 minutes; every refresh returns a new refresh token and the old one dies
(reference next-ledgers §1.2). The connector's token store refreshes under the grant's row lock
and stores the new pair before using it; this class only says what Xero answered, sorted into
the error tree. Organisations come from ``GET /connections``, after a consent only those that
consent added (``authEventId``, a claim of the access token).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import date, datetime

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
    WebhookRejected,
)
from providers.http import DEFAULT_TIMEOUT, RateBudget
from providers.xero import mapping, webhooks
from providers.xero.api import XeroApi, XeroBudgets, observe_rate_limits
from providers.xero.client import XeroLedger
from providers.zones import AMSTERDAM

# Granular scopes of apps made from March 2026 (UNCERTAIN, reference §1.2); settings.read for
# the chart of accounts (payment account choice) and the organisation's base currency.
SCOPES = ("openid", "offline_access", "accounting.invoices", "accounting.payments",
          "accounting.contacts", "accounting.settings.read")
# Xero: 60 calls a minute and 5,000 a day per organisation, 10,000 a minute per app.
MINUTE_LIMIT = 55
DAY_LIMIT = 4_900
APP_MINUTE_LIMIT = 9_500
REFRESH_MARGIN_SECONDS = 120


def default_budgets() -> XeroBudgets:
    return XeroBudgets(RateBudget(MINUTE_LIMIT, 60), RateBudget(DAY_LIMIT, 86_400, max_wait=0),
                       RateBudget(APP_MINUTE_LIMIT, 60))


def auth_event_id(access_token: str) -> str | None:
    """The ``authentication_event_id`` claim of Xero's access token (a JWT), unverified: it
    only narrows which connections we list, it grants nothing."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    value = claims.get("authentication_event_id") if isinstance(claims, dict) else None
    return str(value) if value else None


class XeroProvider:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        webhook_key: str = "",
        *,
        base_url: str = "https://api.xero.com",
        identity_url: str = "https://identity.xero.com",
        login_url: str = "https://login.xero.com",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        today: Callable[[], date] | None = None,
        budgets: XeroBudgets | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_key = webhook_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.today = today or (lambda: datetime.now(AMSTERDAM).date())
        self.budgets = budgets or default_budgets()
        self.session = requests.Session()
        self.info = ProviderInfo(
            key="xero",
            display_name="Xero",
            auth_kind="oauth2",
            authorize_url=f"{login_url.rstrip('/')}/identity/connect/authorize",
            token_url=f"{identity_url.rstrip('/')}/connect/token",
            scopes=SCOPES,
            capabilities=Capabilities(
                invoice_notes=True,  # History
                register_payment=True,  # booked only with a payment account chosen
                pause_own_reminders=False,
                send_own_reminder=False,
                invoice_pdf=True,
                # register_webhook names the organisation's connection (deleted on
                # disconnect); the events come to the app's one URL (app_webhooks).
                webhooks=True,
                payment_setting_choices=True,
                app_webhooks=True,
            ),
            tenant_label="organisatie",
            refresh_margin_seconds=REFRESH_MARGIN_SECONDS,
        )

    def api(self, tenant_id: str, tokens: TokenSource) -> XeroApi:
        """The accounting API as one organisation (``tenant_id``) sees it."""
        return XeroApi(f"{self.base_url}/api.xro/2.0", tokens, tenant_id=tenant_id,
                       budget=self.budgets, timeout=self.timeout, session=self.session,
                       observe=observe_rate_limits)

    # -- OAuth ----------------------------------------------------------------------------

    def _oauth(self, redirect_uri: str | None = None) -> OAuth2Session:
        return OAuth2Session(
            self.client_id, self.client_secret, scope=" ".join(SCOPES),
            redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
            default_timeout=self.timeout,
        )

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        url, _ = self._oauth(redirect_uri).create_authorization_url(
            self.info.authorize_url, state=state)
        return url

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        try:
            token = self._oauth(redirect_uri).fetch_token(
                self.info.token_url, code=code, grant_type="authorization_code")
        except AuthlibBaseError as exc:
            raise Rejected(f"Xero refused the authorization code ({exc.error})") from None
        except (requests.RequestException, ValueError):
            raise Transient("Xero token endpoint unreachable") from None
        return _token_set(token)

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new pair; the refresh token given is dead afterwards (rotation)."""
        try:
            token = self._oauth().refresh_token(self.info.token_url, refresh_token=refresh_token)
        except AuthlibBaseError as exc:
            if exc.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise ReconnectRequired(f"Xero refused the refresh token ({exc.error})") from None
            raise Transient(f"Xero token refresh failed ({exc.error})") from None
        except (requests.RequestException, ValueError):
            raise Transient("Xero token endpoint unreachable") from None
        return _token_set(token)

    # -- organisations --------------------------------------------------------------------

    def _connections(self, tokens: TokenSource, auth_event: str | None = None) -> list[dict]:
        api = XeroApi(self.base_url, tokens, timeout=self.timeout, session=self.session,
                      observe=observe_rate_limits)
        params = {"authEventId": auth_event} if auth_event else None
        rows = api.body("GET", "/connections", params=params)
        if not isinstance(rows, list):
            raise Transient("Xero connections answer is not a list")
        return [r for r in rows if isinstance(r, dict)
                and r.get("tenantType", "ORGANISATION") == "ORGANISATION"]

    def list_tenants(self, tokens: TokenSource) -> list[Tenant]:
        """The organisations this consent connected (all connected ones if the token does not
        say which consent it came from), with base currency and country."""
        rows = self._connections(tokens, auth_event_id(tokens.access_token()))
        tenants = []
        for row in rows:
            body = self.api(str(row["tenantId"]), tokens).body("GET", "/Organisation")
            organisations = body.get("Organisations") or [{}]
            tenants.append(mapping.tenant(row, organisations[0]))
        return tenants

    def connection_id(self, tenant_id: str, tokens: TokenSource) -> str | None:
        for row in self._connections(tokens):
            if str(row.get("tenantId")) == tenant_id:
                return str(row["id"])
        return None

    def delete_connection(self, connection_id: str, tokens: TokenSource) -> None:
        """Disconnect one organisation from our app (404: already gone)."""
        api = XeroApi(self.base_url, tokens, timeout=self.timeout, session=self.session,
                      observe=observe_rate_limits)
        try:
            api.call("DELETE", f"/connections/{connection_id}", idempotent=True)
        except Rejected as exc:
            if exc.status != 404:
                raise

    def ledger(self, tenant_id: str, tokens: TokenSource) -> XeroLedger:
        return XeroLedger(self, tenant_id, tokens)

    # -- webhooks -------------------------------------------------------------------------

    def verify_app_webhook(self, raw_body: bytes,
                           headers: Mapping[str, str]) -> list[WebhookEvent]:
        """One delivery to the app's URL (``/webhooks/xero``), signed with the app's webhook
        key (XERO_WEBHOOK_KEY); intent to receive gives no events. Not genuine:
        :class:`WebhookRejected`."""
        return webhooks.parse(raw_body, headers, self.webhook_key)

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], secret: str
    ) -> list[WebhookEvent]:
        """The per-connection URL is not Xero's: Xero posts every organisation's events to
        the app's one URL (:meth:`verify_app_webhook`). Refusing here keeps a single way in."""
        raise WebhookRejected("Xero delivers to the app's URL /webhooks/xero only")


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
