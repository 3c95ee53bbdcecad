"""OAuth2 authorization-code pieces: the consent page, codes, tokens and the token endpoint.

What differs per platform (token formats, lifetimes, whether a refresh rotates the refresh
token or revokes the previous access token, the error bodies) is a parameter or stays in the
platform's own module; what is the same (reading client credentials, single-use codes, grants
that can be revoked, Dutch consent and error pages, the redirect back) lives here.
"""

from __future__ import annotations

import base64
import hmac
import html
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import flask

from providers.emulator_kit.html import page_response


def redirect_with(redirect_uri: str, params: dict[str, str | None]) -> Any:
    """An OAuth redirect: ``params`` (None left out) added to the client's redirect URI."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return flask.redirect(target, code=302)


def error_page(message: str, hint: str) -> flask.Response:
    """The 400 page an authorization server shows when it cannot redirect back."""
    return page_response(
        "Fout bij autoriseren",
        f"<h1>Er ging iets mis</h1><p>{html.escape(message)}</p><p>{html.escape(hint)}</p>",
        status=400,
    )


def consent_page(
    *,
    title: str,
    intro: str,
    action: str,
    hidden: Iterable[tuple[str, str]],
    field_name: str,
    choices: Iterable[tuple[str, str]],
    choices_label: str = "Administraties:",
) -> flask.Response:
    """A consent form: ``intro`` (HTML), one checked box per choice (value, label), hidden
    fields carried to the POST, and Toestaan/Weigeren buttons (``decision``)."""
    fields = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in hidden
    )
    boxes = "".join(
        f'<li><label><input type="checkbox" name="{field_name}" value="{html.escape(value)}" '
        f"checked> {html.escape(label)}</label></li>"
        for value, label in choices
    )
    body = (
        f"<h1>Toegang verlenen</h1>{intro}"
        f'<form method="post" action="{action}">{fields}'
        f"<p>{choices_label}</p><ul>{boxes}</ul>"
        '<button type="submit" name="decision" value="approve">Toestaan</button> '
        '<button type="submit" name="decision" value="deny">Weigeren</button></form>'
    )
    return page_response(title, body)


def client_credentials(request: Any) -> tuple[str | None, str | None]:
    """The client's id and secret from the form or from HTTP Basic (RFC 6749 §2.3.1)."""
    client_id, client_secret = request.form.get("client_id"), request.form.get("client_secret")
    auth = request.headers.get("Authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            client_id, _, client_secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except ValueError:
            client_id = client_secret = None
    return client_id, client_secret


def client_is(client_id: str | None, client_secret: str | None, expected_id: str,
              expected_secret: str) -> bool:
    """Constant-time check of the client's credentials."""
    return client_id == expected_id and hmac.compare_digest(
        (client_secret or "").encode(), expected_secret.encode()
    )


def oauth_json(status: int, body: Any, headers: dict[str, str] | None = None) -> flask.Response:
    """A token-endpoint answer: JSON, never cached."""
    import json

    resp = flask.Response(json.dumps(body), status=status, content_type="application/json")
    resp.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


# ---------------------------------------------------------------------- authorization codes


@dataclass
class AuthorizationCode:
    value: str
    client_id: str
    redirect_uri: str
    expires_at: datetime
    grant: dict[str, Any]  # what the user consented to (administrations, scopes, ...)
    used: bool = False


class CodeStore:
    """Single-use authorization codes. Any presentation of a known code spends it."""

    def __init__(self) -> None:
        self._codes: dict[str, AuthorizationCode] = {}

    def issue(self, value: str, *, client_id: str, redirect_uri: str, expires_at: datetime,
              **grant: Any) -> str:
        self._codes[value] = AuthorizationCode(value, client_id, redirect_uri, expires_at, grant)
        return value

    def redeem(self, value: str | None, *, client_id: str | None, redirect_uri: str | None,
               now: datetime) -> tuple[str, AuthorizationCode | None]:
        """(outcome, code): ``ok``, ``unknown``, ``reused``, ``wrong_client``,
        ``wrong_redirect`` or ``expired``."""
        code = self._codes.get(value or "")
        if code is None:
            return "unknown", None
        if code.used:
            return "reused", code
        code.used = True
        if code.client_id != client_id:
            return "wrong_client", code
        if code.redirect_uri != redirect_uri:
            return "wrong_redirect", code
        if now >= code.expires_at:
            return "expired", code
        return "ok", code


# ---------------------------------------------------------------------- tokens


@dataclass(eq=False)
class Grant:
    """One consent: what it covers (``scope``) and whether the user revoked it."""

    client_id: str | None
    scope: dict[str, Any]
    issued_at: datetime
    access_issued_at: datetime
    revoked: bool = False
    refresh: RefreshToken | None = None  # the current refresh token
    access: list[AccessToken] = field(default_factory=list)


@dataclass(eq=False)
class AccessToken:
    value: str
    grant: Grant
    issued_at: datetime
    expires_at: datetime | None
    revoked: bool = False

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def usable(self, now: datetime) -> bool:
        return not (self.revoked or self.grant.revoked or self.expired(now))


@dataclass(eq=False)
class RefreshToken:
    value: str
    grant: Grant
    issued_at: datetime
    used: bool = False  # spent by a rotation


def _token() -> str:
    return secrets.token_urlsafe(32)


class TokenStore:
    """Grants with their access and refresh tokens. Not thread-safe: use under a lock.

    ``rotate_refresh``: a refresh spends the refresh token and issues a new one (Exact);
    otherwise the refresh token stays (Moneybird's default). ``revoke_previous_access``: a
    refresh revokes the grant's earlier access tokens (Doorkeeper does).
    """

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        rotate_refresh: bool = False,
        revoke_previous_access: bool = False,
        access_value: Callable[[], str] = _token,
        refresh_value: Callable[[], str] = _token,
    ) -> None:
        self._now = now
        self.rotate_refresh = rotate_refresh
        self.revoke_previous_access = revoke_previous_access
        self._access_value = access_value
        self._refresh_value = refresh_value
        self.grants: list[Grant] = []
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}

    def grant(self, client_id: str | None, **scope: Any) -> Grant:
        now = self._now()
        grant = Grant(client_id, scope, now, now)
        self.grants.append(grant)
        return grant

    def issue(self, grant: Grant, ttl: int | None, *, value: str | None = None,
              new_refresh: bool = True) -> AccessToken:
        """An access token for ``grant`` (``ttl`` seconds, None: never expires); with
        ``new_refresh`` the grant also gets a fresh refresh token (the old one is spent)."""
        now = self._now()
        access = AccessToken(value or self._access_value(), grant, now,
                             now + timedelta(seconds=ttl) if ttl is not None else None)
        self._access[access.value] = access
        grant.access.append(access)
        grant.access_issued_at = now
        if new_refresh:
            if grant.refresh is not None:
                grant.refresh.used = True
            grant.refresh = RefreshToken(self._refresh_value(), grant, now)
            self._refresh[grant.refresh.value] = grant.refresh
        return access

    def refresh(self, token: RefreshToken, ttl: int | None) -> AccessToken:
        """Exchange a (checked) refresh token under the store's rotation rules."""
        grant = token.grant
        if self.revoke_previous_access:
            for old in grant.access:
                old.revoked = True
        return self.issue(grant, ttl, new_refresh=self.rotate_refresh)

    def access_token(self, value: str) -> AccessToken | None:
        return self._access.get(value) if value else None

    def refresh_token(self, value: str | None) -> RefreshToken | None:
        return self._refresh.get(value or "")

    def access_tokens(self) -> list[AccessToken]:
        return list(self._access.values())

    def revoke_all(self) -> None:
        """The user revoked the app: every grant (so every token) stops working."""
        for grant in self.grants:
            grant.revoked = True
        for access in self._access.values():
            access.revoked = True

    def expire_access(self, at: datetime, *, unlimited_too: bool = False) -> None:
        """Every access token expires at ``at`` (non-expiring ones only if ``unlimited_too``)."""
        for access in self._access.values():
            if access.expires_at is not None or unlimited_too:
                access.expires_at = at


def bearer_value(request: Any) -> str:
    """The bearer token of a request ('' when there is none)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""
