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

from providers.emulator_kit.html import page_response
from providers.emulator_kit.oauth import (
    AccessToken,
    CodeStore,
    TokenStore,
    client_credentials,
    client_is,
    consent_page,
    error_page,
    oauth_json,
    redirect_with,
)
from providers.moneybird.emulator.common import ALL_SCOPES, OAUTH_ERRORS, OOB_REDIRECT

DEFAULT_SCOPES = ("sales_invoices", "settings")
CODE_TTL = timedelta(minutes=10)


class OAuthServer:
    """Mixin: grants, tokens and the /oauth endpoints (state in ``self.tokens``/``codes``)."""

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

    def _check_client_redirect(self, client_id: str | None, redirect_uri: str | None) -> str | None:
        if client_id != self.client_id:
            return "Onbekende applicatie (client_id)."
        if not redirect_uri:
            return "De redirect_uri ontbreekt."
        if self.redirect_uri is not None and redirect_uri != self.redirect_uri:
            return "De redirect_uri komt niet overeen met de geregistreerde redirect URI."
        return None

    @staticmethod
    def _oauth_error_page(message: str) -> flask.Response:
        return error_page(
            message, "Controleer de instellingen van de applicatie (client_id en redirect_uri)."
        )

    def oauth_authorize_get(self) -> flask.Response:
        """The consent page (Dutch) with one checkbox per administration."""
        args = flask.request.args
        problem = self._check_client_redirect(args.get("client_id"), args.get("redirect_uri"))
        if problem:
            return self._oauth_error_page(problem)
        redirect_uri = args["redirect_uri"]
        if args.get("response_type") != "code":
            return redirect_with(
                redirect_uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": OAUTH_ERRORS["unsupported_response_type"],
                    "state": args.get("state"),
                },
            )
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

    def oauth_authorize_post(self) -> flask.Response:
        """Approve/deny the consent form: redirect back with a code or access_denied."""
        form = flask.request.form
        problem = self._check_client_redirect(form.get("client_id"), form.get("redirect_uri"))
        if problem:
            return self._oauth_error_page(problem)
        redirect_uri = form["redirect_uri"]
        state = form.get("state") or None
        adm_ids = [a for a in form.getlist("administration_ids") if a in self._adms]
        if form.get("decision") != "approve" or not adm_ids:
            return redirect_with(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": OAUTH_ERRORS["access_denied"],
                    "state": state,
                },
            )
        with self._lock:
            code = self.codes.issue(
                secrets.token_urlsafe(32),
                client_id=form["client_id"],
                redirect_uri=redirect_uri,
                expires_at=self._now() + CODE_TTL,
                scopes=tuple((form.get("scope") or "sales_invoices").split()),
                administration_ids=adm_ids,
            )
        if redirect_uri == OOB_REDIRECT:
            return page_response(
                "Autorisatiecode", f"<h1>Autorisatiecode</h1><p><code>{code}</code></p>"
            )
        return redirect_with(redirect_uri, {"code": code, "state": state})

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
