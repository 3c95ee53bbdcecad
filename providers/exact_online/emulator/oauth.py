"""Exact's OAuth2 server: tokens, the consent page and the token endpoint with its rules.

Exact's rules (reference §2): 600 s access tokens (``expires_in`` a string), single-use
rotating refresh tokens (an old one answers 401 "Old refresh token used."), no refresh before
570 s, refresh tokens die after 30 days, codes are single use and live 3 minutes, at most 200
token calls a day. Breaking one is recorded as a violation.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import flask

from providers.emulator_kit.consent import ConsentEndpoint
from providers.emulator_kit.oauth import (
    AccessToken,
    CodeStore,
    Grant,
    TokenStore,
    client_credentials,
    client_is,
    consent_page,
    oauth_json,
)
from providers.exact_online.emulator.common import (
    ACCESS_TTL,
    CODE_TTL,
    EARLY_REFRESH_BODY,
    EARLY_REFRESH_REASON,
    EARLY_REFRESH_WINDOW,
    INVALID_CLIENT_BODY,
    INVALID_GRANT_BODY,
    OLD_REFRESH_BODY,
    REFRESH_TTL,
    Json,
    us_time,
)


def access_value() -> str:
    return "gAAAA" + secrets.token_urlsafe(48)


def refresh_value() -> str:
    return "Gcp7!IAAA" + secrets.token_urlsafe(48)


class OAuthServer(ConsentEndpoint):
    """Mixin: grants, tokens and /api/oauth2 (state in ``self.tokens`` and ``self.codes``)."""

    unknown_client_message = "Client with identifier '{client_id}' not found."
    wrong_redirect_message = (
        "De redirect_uri komt niet exact overeen met de geregistreerde redirect URI."
    )
    error_hint = "Controleer de instellingen van de app (client_id en redirect_uri)."
    consent_field = "division"

    tokens: TokenStore
    codes: CodeStore
    _divs: dict[int, dict[str, Any]]

    # ------------------------------------------------------------------ tokens

    def _grant(self, client_id: str | None, divisions: Iterable[int] | None) -> Grant:
        divs = frozenset(int(d) for d in divisions) if divisions else frozenset(self._divs)
        return self.tokens.grant(client_id, divisions=divs)

    def issue_token(self, divisions: Iterable[int] | None = None) -> tuple[str, str]:
        """Pre-issue (access, refresh) as if the user consented; default: all divisions."""
        with self._lock:
            grant = self._grant(self.client_id, divisions)
            access = self.tokens.issue(grant, ACCESS_TTL)
            self._token_event("issued", via="issue_token")
            assert grant.refresh is not None
            return access.value, grant.refresh.value

    def register_token(self, token: str) -> None:
        """Accept ``token`` verbatim as a non-expiring bearer token for all divisions (curl)."""
        with self._lock:
            self.tokens.issue(self._grant(self.client_id, None), None, value=token,
                              new_refresh=False)

    def revoke_tokens(self) -> None:
        """The user revoked the app: every access and refresh token stops working."""
        with self._lock:
            self.tokens.revoke_all()

    def expire_access_tokens(self) -> None:
        """Every access token expires now (refresh is then allowed; refresh tokens keep working)."""
        with self._lock:
            now = self.now()
            self.tokens.expire_access(now - timedelta(seconds=1))
            for grant in self.tokens.grants:
                grant.access_issued_at = min(
                    grant.access_issued_at, now - timedelta(seconds=ACCESS_TTL)
                )

    # ------------------------------------------------------------------ consent

    def consent_form(self, args: Any) -> flask.Response:
        """The Dutch consent page with one checkbox per division (division scoping)."""
        redirect_uri = args["redirect_uri"]
        with self._lock:
            divs = [(str(d["Code"]), f"{d['Description']} ({d['Code']})")
                    for d in self._divs.values()]
        return consent_page(
            title="Exact Online – toegang verlenen",
            intro=(
                f"<p>De app <strong>{html.escape(args['client_id'])}</strong> vraagt toegang tot "
                "uw Exact Online-administraties: lezen van debiteuren en openstaande posten, "
                "schrijven van notities en boekingen.</p>"
            ),
            action="/api/oauth2/auth",
            hidden=(
                ("client_id", args["client_id"]),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("state", args.get("state", "")),
            ),
            field_name="division",
            choices=divs,
        )

    def consent_choices(self, chosen: list[str]) -> list[int]:
        with self._lock:
            return [int(d) for d in chosen if d.isdigit() and int(d) in self._divs]

    def issue_consent_code(self, form: Any, redirect_uri: str, choices: list[Any]) -> str:
        """A code that is single use and lives 3 minutes."""
        with self._lock:
            return self.codes.issue(
                "stampNL001." + secrets.token_urlsafe(24) + "!IAAAA" + secrets.token_urlsafe(32),
                client_id=form["client_id"],
                redirect_uri=redirect_uri,
                expires_at=self.now() + CODE_TTL,
                divisions=choices,
            )

    # ------------------------------------------------------------------ token endpoint

    @staticmethod
    def _oauth_json(status: int, body: Json, reason: str | None = None) -> flask.Response:
        return oauth_json(status, body, {"Reason": reason} if reason else None)

    def _token_response(self, access: AccessToken) -> flask.Response:
        assert access.grant.refresh is not None
        return self._oauth_json(
            200,
            {
                "access_token": access.value,
                "token_type": "bearer",
                "expires_in": str(ACCESS_TTL),
                "refresh_token": access.grant.refresh.value,
            },
        )

    def oauth_token(self) -> flask.Response:
        """authorization_code and refresh_token grants with every Exact token rule."""
        form = flask.request.form
        client_id, client_secret = client_credentials(flask.request)
        with self._lock:
            today = self._today()
            self._token_calls[today] = self._token_calls.get(today, 0) + 1
            if not client_is(client_id, client_secret, self.client_id, self.client_secret):
                self._token_event("invalid_client")
                return self._oauth_json(400, INVALID_CLIENT_BODY)
            if self._token_calls[today] > self.token_daily_limit:
                self._token_event("token_quota_exceeded")
                self._violation(
                    "token_quota_exceeded", f"> {self.token_daily_limit} token calls today"
                )
                return self._oauth_json(
                    400,
                    {
                        "error": "access_denied",
                        "error_description": "Rate limit exceeded: too many token requests",
                    },
                )
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return self._exchange_code(client_id)
            if grant_type == "refresh_token":
                return self._exchange_refresh()
            self._token_event("unsupported_grant_type")
            return self._oauth_json(400, {"error": "unsupported_grant_type"})

    def _exchange_code(self, client_id: str | None) -> flask.Response:
        form = flask.request.form
        outcome, code = self.codes.redeem(
            form.get("code"), client_id=client_id, redirect_uri=form.get("redirect_uri"),
            now=self.now(),
        )
        if outcome == "reused":
            self._token_event("code_reused")
            self._violation("authorization_code_reused", "authorization code used twice")
            return self._oauth_json(400, INVALID_GRANT_BODY)
        if outcome != "ok" or code is None:
            self._token_event("invalid_grant", grant_type="authorization_code")
            return self._oauth_json(400, INVALID_GRANT_BODY)
        access = self.tokens.issue(self._grant(client_id, code.grant["divisions"]), ACCESS_TTL)
        self._token_event("issued", via="authorization_code")
        return self._token_response(access)

    def _exchange_refresh(self) -> flask.Response:
        now = self.now()
        rt = self.tokens.refresh_token(flask.request.form.get("refresh_token"))
        if rt is None or rt.grant.revoked:
            self._token_event("invalid_grant", grant_type="refresh_token")
            return self._oauth_json(400, INVALID_GRANT_BODY)
        if rt.used:
            self._token_event("old_refresh_token_used")
            self._violation("old_refresh_token_used", "a refresh token was used twice")
            return self._oauth_json(401, OLD_REFRESH_BODY)
        if now >= rt.issued_at + REFRESH_TTL:
            self._token_event("expired_refresh_token")
            return self._oauth_json(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"The refresh token expired at "
                    f"{us_time(rt.issued_at + REFRESH_TTL)} and it is now {us_time(now)}.",
                },
            )
        if now < rt.grant.access_issued_at + timedelta(seconds=EARLY_REFRESH_WINDOW):
            self._token_event("early_refresh_rejected")
            age = (now - rt.grant.access_issued_at).total_seconds()
            self._violation("early_refresh", f"refresh {age:.0f} s after issue (< 570 s)")
            return self._oauth_json(400, EARLY_REFRESH_BODY, EARLY_REFRESH_REASON)
        access = self.tokens.refresh(rt, ACCESS_TTL)
        self._token_event("refreshed")
        return self._token_response(access)
