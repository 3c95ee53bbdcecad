"""Moneybird's OAuth server (Doorkeeper): tokens, the consent page and the token endpoint.

Doorkeeper's rules: a refresh revokes the previous access token; the refresh token stays
unless ``rotate_refresh_tokens``; an authorization code is single use and lives 10 minutes;
errors carry Doorkeeper's standard descriptions.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import flask

from providers.emulator_kit.consent import ConsentEndpoint
from providers.emulator_kit.html import page_response
from providers.emulator_kit.oauth import (
    AccessToken,
    CodeStore,
    TokenStore,
    client_credentials,
    client_is,
    consent_page,
    oauth_json,
    redirect_with,
)
from providers.moneybird.emulator.common import ALL_SCOPES, OAUTH_ERRORS, OOB_REDIRECT

DEFAULT_SCOPES = ("sales_invoices", "settings")
CODE_TTL = timedelta(minutes=10)


class OAuthServer(ConsentEndpoint):
    """Mixin: grants, tokens and the /oauth endpoints (state in ``self.tokens``/``codes``)."""

    consent_field = "administration_ids"
    denied_description = OAUTH_ERRORS["access_denied"]
    unsupported_description = OAUTH_ERRORS["unsupported_response_type"]

    tokens: TokenStore
    codes: CodeStore
    _adms: dict[str, dict[str, Any]]

    # ------------------------------------------------------------------ tokens

    def _grant_for(self, client_id: str | None, adm_ids: Iterable[str], scopes: Iterable[str]
                   ) -> Any:
        return self.tokens.grant(client_id, administration_ids=frozenset(adm_ids),
                                 scopes=tuple(scopes))

    def issue_token(
        self,
        administration_ids: Iterable[str] | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        expires_in: int | None = None,
    ) -> tuple[str, str]:
        """Pre-issue (access, refresh) like a personal API token; default: all administrations."""
        with self._lock:
            adm_ids = (
                [str(a) for a in administration_ids] if administration_ids else list(self._adms)
            )
            grant = self._grant_for(None, adm_ids, scopes)
            tok = self.tokens.issue(grant, expires_in)
            assert grant.refresh is not None
            return tok.value, grant.refresh.value

    def register_token(self, token: str, scopes: Iterable[str] = DEFAULT_SCOPES) -> None:
        """Accept ``token`` verbatim as a non-expiring bearer token for all administrations."""
        with self._lock:
            self.tokens.issue(self._grant_for(None, list(self._adms), scopes), None, value=token)

    def revoke_tokens(self) -> None:
        """Every access and refresh token stops working (user revoked the app)."""
        with self._lock:
            self.tokens.revoke_all()

    def expire_access_tokens(self) -> None:
        """Every access token is expired now; refresh tokens keep working."""
        with self._lock:
            self.tokens.expire_access(self._now() - timedelta(seconds=1), unlimited_too=True)

    @staticmethod
    def _token_response(tok: AccessToken) -> dict[str, Any]:
        assert tok.grant.refresh is not None
        body: dict[str, Any] = {
            "access_token": tok.value,
            "token_type": "Bearer",
            "refresh_token": tok.grant.refresh.value,
            "scope": " ".join(tok.grant.scope["scopes"]),
            "created_at": int(tok.issued_at.timestamp()),
        }
        if tok.expires_at is not None:
            body["expires_in"] = int((tok.expires_at - tok.issued_at).total_seconds())
        return body

    # ------------------------------------------------------------------ consent

    def consent_form(self, args: Any) -> flask.Response:
        """The consent page (Dutch) with one checkbox per administration."""
        redirect_uri = args["redirect_uri"]
        scopes = (args.get("scope") or "sales_invoices").split()
        if any(s not in ALL_SCOPES for s in scopes):
            return redirect_with(
                redirect_uri,
                {
                    "error": "invalid_scope",
                    "error_description": "The requested scope is invalid, unknown, or malformed.",
                    "state": args.get("state"),
                },
            )
        with self._lock:
            adms = [(a["id"], a["name"]) for a in self._adms.values()]
        scope_list = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in scopes)
        return consent_page(
            title="Moneybird – toegang verlenen",
            intro=(
                "<p>De applicatie "
                f"<strong>{html.escape(args['client_id'])}</strong> "
                "vraagt toegang tot je Moneybird-administratie(s).</p>"
                f"<p>Gevraagde rechten:</p><ul>{scope_list}</ul>"
            ),
            action="/oauth/authorize",
            hidden=(
                ("client_id", args["client_id"]),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", " ".join(scopes)),
                ("state", args.get("state", "")),
            ),
            field_name="administration_ids",
            choices=adms,
        )

    def consent_choices(self, chosen: list[str]) -> list[str]:
        return [a for a in chosen if a in self._adms]

    def issue_consent_code(self, form: Any, redirect_uri: str, choices: list[Any]) -> str:
        with self._lock:
            return self.codes.issue(
                secrets.token_urlsafe(32),
                client_id=form["client_id"],
                redirect_uri=redirect_uri,
                expires_at=self._now() + CODE_TTL,
                scopes=tuple((form.get("scope") or "sales_invoices").split()),
                administration_ids=choices,
            )

    def consent_redirect(self, redirect_uri: str, code: str, state: str | None) -> Any:
        """The out-of-band redirect shows the code on a page instead."""
        if redirect_uri == OOB_REDIRECT:
            return page_response(
                "Autorisatiecode", f"<h1>Autorisatiecode</h1><p><code>{code}</code></p>"
            )
        return super().consent_redirect(redirect_uri, code, state)

    # ------------------------------------------------------------------ token endpoint

    @staticmethod
    def _oauth_json(
        status: int, error: str | None = None, body: dict[str, Any] | None = None
    ) -> flask.Response:
        payload = (
            body
            if body is not None
            else {"error": error, "error_description": OAUTH_ERRORS[error or ""]}
        )
        headers = {"Pragma": "no-cache"}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="Doorkeeper", error="invalid_client"'
        return oauth_json(status, payload, headers)

    def oauth_token(self) -> flask.Response:
        """Doorkeeper-style token endpoint: authorization_code and refresh_token grants."""
        form = flask.request.form
        client_id, client_secret = client_credentials(flask.request)
        if not client_is(client_id, client_secret, self.client_id, self.client_secret):
            return self._oauth_json(401, "invalid_client")
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                outcome, code = self.codes.redeem(
                    form.get("code"), client_id=client_id,
                    redirect_uri=form.get("redirect_uri"), now=self._now(),
                )
                if outcome != "ok" or code is None:
                    return self._oauth_json(400, "invalid_grant")
                grant = self._grant_for(
                    client_id, code.grant["administration_ids"], code.grant["scopes"]
                )
                tok = self.tokens.issue(grant, self.token_ttl)
                return self._oauth_json(200, body=self._token_response(tok))
            if grant_type == "refresh_token":
                rt = self.tokens.refresh_token(form.get("refresh_token"))
                if (
                    rt is None
                    or rt.used
                    or rt.grant.revoked
                    or rt.grant.client_id not in (None, client_id)
                ):
                    return self._oauth_json(400, "invalid_grant")
                self.tokens.rotate_refresh = self.rotate_refresh_tokens
                tok = self.tokens.refresh(rt, self.token_ttl)
                return self._oauth_json(200, body=self._token_response(tok))
            if not grant_type:
                return self._oauth_json(400, "invalid_request")
            return self._oauth_json(400, "unsupported_grant_type")
