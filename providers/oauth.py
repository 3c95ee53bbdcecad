"""The OAuth2 code flow every OAuth ledger shares, on Authlib: the consent URL, the code
exchange and the refresh, with the token endpoint's answers sorted into the error tree.

A provider describes its endpoints in an :class:`OAuthClient` and may add one platform rule
(``refusal``: Exact Online's "not expired yet" is :class:`RefreshTooEarly`). Everything else
is the same for all:

- a refused refresh (``invalid_grant``, ``invalid_client``, ``unauthorized_client``, or a
  401 without a readable error) is :class:`ReconnectRequired`; any other refusal of a refresh
  is :class:`Transient` (asked again later);
- a refused code is :class:`Rejected` (the creditor starts the connect again);
- 429 is :class:`RateLimited` (``Retry-After`` read as in :mod:`providers.http`), 5xx, a
  timeout or a broken answer are :class:`Transient`.

Messages name the platform and the OAuth error code only: never a token, code or description.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

from providers.base import (
    LedgerError,
    RateLimited,
    ReconnectRequired,
    Rejected,
    TokenSet,
    Transient,
)
from providers.http import DEFAULT_TIMEOUT, parse_retry_at, utcnow

#: OAuth errors that mean the grant itself is gone: the creditor must connect again.
RECONNECT_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})

#: A platform's own reading of a refused refresh: (error code, description in lower case) →
#: the error to raise, or None for the shared rules.
Refusal = Callable[[str, str], LedgerError | None]


@dataclass(frozen=True)
class OAuthClient:
    """One platform's OAuth2 endpoints and credentials (built per use: cheap, and a test or a
    region may change the host or timeout on the provider)."""

    platform: str  # the display name, for messages
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str = ""
    token_url: str = ""
    scopes: tuple[str, ...] = ()
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    refusal: Refusal | None = None

    def _session(self, redirect_uri: str | None = None) -> OAuth2Session:
        session = OAuth2Session(
            self.client_id,
            self.client_secret,
            scope=" ".join(self.scopes) or None,
            redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            default_timeout=self.timeout,
        )
        session.register_compliance_hook("access_token_response", self._check_status)
        session.register_compliance_hook("refresh_token_response", self._check_refresh_status)
        return session

    def authorization_url(self, redirect_uri: str, state: str) -> str:
        url, _ = self._session(redirect_uri).create_authorization_url(
            self.authorize_url, state=state, **dict(self.authorize_params))
        return url

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        try:
            token = self._session(redirect_uri).fetch_token(
                self.token_url, code=code, grant_type="authorization_code")
        except AuthlibBaseError as exc:
            raise Rejected(f"{self.platform} refused the authorization code ({exc.error})") \
                from None
        except (requests.RequestException, ValueError):
            raise Transient(f"{self.platform} token endpoint unreachable") from None
        return token_set(token)

    def refresh(self, refresh_token: str) -> TokenSet:
        try:
            token = self._session().refresh_token(self.token_url, refresh_token=refresh_token)
        except AuthlibBaseError as exc:
            raise self._refused(str(exc.error or ""), exc.description or "") from None
        except (requests.RequestException, ValueError):
            raise Transient(f"{self.platform} token endpoint unreachable") from None
        tokens = token_set(token)
        if tokens.refresh_token is None:  # not rotated: keep using the one we have
            tokens = TokenSet(tokens.access_token, refresh_token, tokens.expires_in, tokens.scope)
        return tokens

    def _refused(self, error: str, description: str) -> LedgerError:
        if self.refusal is not None:
            verdict = self.refusal(error, description.lower())
            if verdict is not None:
                return verdict
        if error in RECONNECT_ERRORS:
            return ReconnectRequired(f"{self.platform} refused the refresh token ({error})")
        return Transient(f"{self.platform} token refresh failed ({error})")

    def _check_status(self, response: requests.Response) -> requests.Response:
        """The shared classification of a token endpoint's status, before Authlib reads it."""
        if response.status_code == 429:
            retry_at = parse_retry_at(response.headers) or utcnow() + timedelta(seconds=60)
            raise RateLimited(f"{self.platform} token endpoint rate limited", retry_at=retry_at)
        if response.status_code >= 500:
            raise Transient(f"{self.platform} token endpoint failed "
                            f"(HTTP {response.status_code})")
        return response

    def _check_refresh_status(self, response: requests.Response) -> requests.Response:
        response = self._check_status(response)
        if response.status_code == 401 and not _oauth_error(response):
            # No OAuth error to read (Exact may say "Access Token not expired" only in the
            # reason phrase): the platform's rule first, on the reason and the start of the body.
            words = f"{response.reason or ''} {response.text[:200]}"
            if self.refusal is not None and (verdict := self.refusal("", words.lower())):
                raise verdict
            raise ReconnectRequired(f"{self.platform} refused the refresh token (HTTP 401)")
        return response


def _oauth_error(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def token_set(token: Mapping[str, object]) -> TokenSet:
    """A token endpoint's answer as a :class:`TokenSet` (``expires_in`` may come as a string,
    as Exact Online sends it)."""
    expires_in = token.get("expires_in")
    refresh = token.get("refresh_token")
    scope = token.get("scope")
    return TokenSet(
        access_token=str(token["access_token"]),
        refresh_token=str(refresh) if refresh else None,
        expires_in=int(str(expires_in)) if expires_in not in (None, "") else None,
        scope=str(scope) if scope else None,
    )
