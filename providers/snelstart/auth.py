"""Access tokens from a koppelsleutel (``grant_type=clientkey``), and a token cache for tools.

Not in SnelStart's API description; the form below is what every known client sends
(reference/next-ledgers.md §3.2): ``POST https://auth.snelstart.nl/b2b/token`` with
``grant_type=clientkey&clientkey=<key>`` → ``{access_token, token_type, expires_in}``. There is
no refresh token: the key itself is traded again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import requests

from providers.base import RateLimited, ReconnectRequired, Rejected, TokenSet, Transient
from providers.http import parse_retry_at, utcnow

REFUSED = ("invalid_grant", "invalid_client", "unauthorized_client")
MARGIN_SECONDS = 60  # ask again this long before the token runs out


def clean_key(key: str) -> str:
    """A pasted key, without the spaces and line breaks copying tends to add."""
    return "".join(key.split())


def request_token(session: requests.Session, auth_url: str, key: str,
                  timeout: tuple[float, float]) -> TokenSet:
    """Trade the koppelsleutel for an access token; a refused key means reconnecting."""
    key = clean_key(key)
    if not key:
        raise ReconnectRequired("SnelStart key is empty")
    try:
        response = session.post(
            auth_url, data={"grant_type": "clientkey", "clientkey": key},
            headers={"Accept": "application/json"}, timeout=timeout)
    except requests.RequestException:
        raise Transient("SnelStart token endpoint unreachable") from None
    status = response.status_code
    if status == 429:
        retry_at = parse_retry_at(response.headers) or utcnow() + timedelta(seconds=60)
        raise RateLimited("SnelStart token endpoint rate limited", retry_at=retry_at)
    if status >= 500:
        raise Transient(f"SnelStart token endpoint answered HTTP {status}")
    body = _json(response)
    if status in (400, 401, 403):
        error = body.get("error") if isinstance(body, dict) else None
        if status != 400 or error in REFUSED or error is None:
            raise ReconnectRequired(f"SnelStart refused the key ({error or status})")
        raise Rejected(f"SnelStart token request rejected ({error})", status=status)
    if status >= 300 or not isinstance(body, dict) or not body.get("access_token"):
        raise Transient(f"SnelStart token endpoint answered HTTP {status} without a token")
    expires_in = body.get("expires_in")
    try:
        lifetime = int(str(expires_in)) if expires_in not in (None, "") else None
    except ValueError:
        lifetime = None
    # The key plays the refresh token's part: the connector stores it (encrypted) as such.
    return TokenSet(access_token=str(body["access_token"]), refresh_token=key,
                    expires_in=lifetime, scope=str(body.get("scope") or "") or None)


def _json(response: requests.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


class KeyTokens:
    """A :class:`~providers.base.TokenSource` straight from a key, cached in memory.

    The connector keeps tokens in its encrypted store; this is for tools, the bench and tests
    that talk to SnelStart without it. The token is reused until ``MARGIN_SECONDS`` before it
    expires and requested again after a 401.
    """

    def __init__(self, exchange: Callable[[str], TokenSet], key: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._exchange = exchange
        self._key = key
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._valid_until = 0.0
        self.requests = 0  # token requests made (a test counts them)

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._valid_until:
                self._fetch()
            assert self._token is not None
            return self._token

    def refresh_after_rejection(self, rejected_token: str) -> str:
        with self._lock:
            if self._token == rejected_token or self._token is None:
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        tokens = self._exchange(self._key)
        self.requests += 1
        self._token = tokens.access_token
        lifetime = tokens.expires_in if tokens.expires_in is not None else 3600
        self._valid_until = self._clock() + max(lifetime - MARGIN_SECONDS, 0)

    def __repr__(self) -> str:
        return "KeyTokens()"
