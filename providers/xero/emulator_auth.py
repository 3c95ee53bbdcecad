"""The Xero emulator's identity side: consent page, token endpoint, ``/connections``.

Access tokens are JWT-shaped (unsigned here) and carry ``authentication_event_id``, as Xero's
do; they live 30 minutes on the emulator's clock. Every refresh rotates: the refresh token used
dies, and using it again is ``invalid_grant`` (and a violation: a client that loses the new
token loses the grant). Both the broad scopes (``accounting.transactions``) and the granular
ones of apps made from March 2026 (``accounting.invoices``, ``accounting.payments``) work.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import flask

from providers.emulator_kit.consent import ConsentEndpoint
from providers.emulator_server import html_page, redirect_with
from providers.xero.emulator_errors import ApiError, problem

ACCESS_TTL = timedelta(minutes=30)
REFRESH_TTL = timedelta(days=60)
CODE_TTL = timedelta(minutes=5)
IN_FLIGHT_GRACE = timedelta(seconds=0.5)  # real time; see _authenticate
KNOWN_SCOPES = frozenset({
    "openid", "profile", "email", "offline_access",
    "accounting.transactions", "accounting.transactions.read",
    "accounting.invoices", "accounting.invoices.read",
    "accounting.payments", "accounting.payments.read",
    "accounting.contacts", "accounting.contacts.read",
    "accounting.settings", "accounting.settings.read",
})
# What an area needs: any one of these scopes (read needs one of both lists).
AREA_SCOPES = {
    "invoices": ({"accounting.invoices", "accounting.transactions"},
                 {"accounting.invoices.read", "accounting.transactions.read"}),
    "payments": ({"accounting.payments", "accounting.transactions"},
                 {"accounting.payments.read", "accounting.transactions.read"}),
    "contacts": ({"accounting.contacts"}, {"accounting.contacts.read"}),
    "settings": ({"accounting.settings"}, {"accounting.settings.read"}),
}


@dataclass
class Grant:
    client_id: str
    scopes: frozenset[str]
    auth_event: str = ""
    revoked: bool = False
    fixed: bool = False  # the CLI's --token: every organisation, never expires


@dataclass
class Access:
    value: str
    grant: Grant
    expires_at: datetime | None
    auth_event: str


@dataclass
class Refresh:
    value: str
    grant: Grant
    issued_at: datetime
    used: bool = False
    children: list[str] = field(default_factory=list)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class AuthMixin(ConsentEndpoint):
    """Consent, tokens and connections (mixed into :class:`XeroEmulator`)."""

    unknown_client_message = "unauthorized_client: Unknown client or client not enabled"
    missing_redirect_message = "invalid_request: redirect_uri missing"
    wrong_redirect_message = "invalid_request: Invalid redirect_uri"
    consent_field = "tenant"

    def _init_auth(self: Any) -> None:
        self._codes: dict[str, dict[str, Any]] = {}
        self._access: dict[str, Access] = {}
        self._refresh: dict[str, Refresh] = {}
        self.connections: list[dict[str, Any]] = []

    # -- tokens ---------------------------------------------------------------------------

    def _token_event(self: Any, outcome: str) -> None:
        self.token_events.append({"at": self.now(), "outcome": outcome})

    def count_token_events(self: Any, outcome: str) -> int:
        with self._lock:
            return sum(1 for e in self.token_events if e["outcome"] == outcome)

    def _new_pair(self: Any, grant: Grant, auth_event: str) -> tuple[Access, Refresh]:
        now = self.now()
        expires = now + ACCESS_TTL
        claims = {"nbf": int(now.timestamp()), "exp": int(expires.timestamp()),
                  "iss": "https://identity.xero.com", "client_id": grant.client_id,
                  "authentication_event_id": auth_event, "jti": secrets.token_hex(8)}
        value = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_hex(16)}"
        access = Access(value, grant, expires, auth_event)
        refresh = Refresh(secrets.token_hex(32), grant, now)
        self._access[access.value] = access
        self._refresh[refresh.value] = refresh
        return access, refresh

    def register_token(self: Any, token: str) -> None:
        """A fixed access token for every organisation (the CLI's ``--token``)."""
        with self._lock:
            event = str(uuid.uuid4())
            grant = Grant(self.client_id, frozenset(KNOWN_SCOPES), event, fixed=True)
            self._access[token] = Access(token, grant, None, event)
            for tenant_id in self.orgs:
                self._connect(tenant_id, event)

    def expire_access_tokens(self: Any) -> None:
        """Every access token expired long ago (a client must refresh; one that uses it is
        reported, see _authenticate)."""
        with self._lock:
            for access in self._access.values():
                if access.expires_at is not None:
                    access.expires_at = self.now() - ACCESS_TTL

    def _authenticate(self: Any) -> Access:
        header = flask.request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        with self._lock:
            access = self._access.get(value) if value else None
        if access is None or access.grant.revoked:
            raise problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        if access.expires_at is not None and self.now() >= access.expires_at:
            # Xero answers 401 either way; a client that refreshes ahead of time can still have
            # a call arrive just after expiry (latency on a busy machine, on a clock running
            # fast). Only a token used well after it expired is a client that did not refresh.
            late = self.now() - access.expires_at
            if late > IN_FLIGHT_GRACE * self.clock_speed:
                self._violation("expired_access_token", "API call with an expired access token")
            raise problem(401, "Unauthorized", "TokenExpired: token expired")
        return access

    def _tenant_for(self: Any, access: Access, path: str) -> str:
        """The organisation of an accounting call (xero-tenant-id, connected); "" otherwise."""
        if not path.startswith("/api.xro/"):
            return ""
        tenant = (flask.request.headers.get("xero-tenant-id") or "").strip()
        if not tenant:
            self._violation("missing_tenant_header", f"{flask.request.method} {path}")
            raise ApiError(400, {"Title": "Missing xero-tenant-id", "Status": 400})
        with self._lock:
            connected = any(c["tenantId"] == tenant for c in self.connections)
        if not connected or tenant not in self.orgs:
            raise problem(403, "Forbidden", "AuthorizationUnsuccessful")
        return tenant

    def require_scope(self: Any, access: Access, area: str, write: bool) -> None:
        full, read = AREA_SCOPES[area]
        allowed = full if write else full | read
        if not access.grant.scopes & allowed:
            raise problem(401, "Unauthorized", "AuthorizationUnsuccessful: insufficient_scope")

    # -- connections ----------------------------------------------------------------------

    def _connect(self: Any, tenant_id: str, auth_event: str) -> None:
        now = self.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        for row in self.connections:
            if row["tenantId"] == tenant_id:
                row.update(authEventId=auth_event, updatedDateUtc=now)
                return
        self.connections.append({
            "id": str(uuid.uuid4()), "authEventId": auth_event, "tenantId": tenant_id,
            "tenantType": "ORGANISATION", "tenantName": self.orgs[tenant_id]["Name"],
            "createdDateUtc": now, "updatedDateUtc": now})

    def _connections_call(self: Any) -> Access:
        try:
            access = self._authenticate()
            self._take_call("connections")
            self._release_call("connections")
        except ApiError as exc:
            flask.abort(self.respond(exc.status, exc.body, exc.headers))
        return access

    def h_connections(self: Any) -> flask.Response:
        self._connections_call()
        event = flask.request.args.get("authEventId")
        with self._lock:
            rows = [dict(c) for c in self.connections
                    if event is None or c["authEventId"] == event]
            self.call_log.record({"method": "GET", "path": "/connections", "at": self.now(),
                                  "query": flask.request.query_string.decode(), "status": 200})
        return self.respond(200, rows)

    def h_connection_delete(self: Any, connection_id: str) -> flask.Response:
        self._connections_call()
        with self._lock:
            found = [c for c in self.connections if c["id"] == connection_id]
            for row in found:
                self.connections.remove(row)
            self.call_log.record({"method": "DELETE", "path": f"/connections/{connection_id}",
                                  "at": self.now(), "query": "", "status": 204 if found else 404})
        if not found:
            return self.respond(404, {"Title": "Not Found", "Status": 404,
                                      "Detail": "Connection not found"})
        return self.respond(204)

    def disconnected(self: Any, tenant_id: str) -> bool:
        with self._lock:
            return not any(c["tenantId"] == tenant_id for c in self.connections)

    # -- consent --------------------------------------------------------------------------

    def oauth_error_page(self: Any, message: str) -> flask.Response:
        body = f"<h1>Er ging iets mis</h1><p>{html.escape(message)}</p>"
        return flask.Response(html_page("Xero – fout", body), status=400,
                              content_type="text/html; charset=utf-8")

    def oauth_authorize_get(self: Any) -> flask.Response:
        """The consent page: the scopes asked for and a choice of organisations. Replaces the
        kit's: Xero refuses an unknown or missing scope (``invalid_scope``) first."""
        args = flask.request.args
        problem = self.client_problem(args)
        if problem is not None:
            return problem
        scopes = set((args.get("scope") or "").split())
        unknown = scopes - KNOWN_SCOPES
        if args.get("response_type") != "code" or unknown or not scopes:
            return redirect_with(args["redirect_uri"], {
                "error": "invalid_scope" if unknown or not scopes else
                "unsupported_response_type", "state": args.get("state")})
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(args.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "scope", "state"))
        with self._lock:
            orgs = [(t, o["Name"]) for t, o in self.orgs.items()]
        boxes = "".join(
            f'<li><label><input type="checkbox" name="tenant" value="{t}" '
            f'{"checked" if i == 0 else ""}> {html.escape(name)}</label></li>'
            for i, (t, name) in enumerate(orgs))
        listed = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in sorted(scopes))
        body = (f"<h1>{html.escape(args['client_id'])} wil verbinden met Xero</h1>"
                f"<p>Gevraagde toegang:</p><ul>{listed}</ul>"
                f'<form method="post" action="/identity/connect/authorize">{hidden}'
                f"<p>Organisaties:</p><ul>{boxes}</ul>"
                '<button type="submit" name="decision" value="approve">Toestaan</button> '
                '<button type="submit" name="decision" value="deny">Annuleren</button></form>')
        return flask.Response(html_page("Xero – toegang verlenen", body),
                              content_type="text/html; charset=utf-8")

    def consent_choices(self: Any, chosen: list[str]) -> list[str]:
        return [t for t in chosen if t in self.orgs]

    def issue_consent_code(self: Any, form: Any, redirect_uri: str, choices: list[Any]) -> str:
        """A code for the chosen organisations; the first consent's redirect URI also names
        the demo's webhook URL (see :meth:`subscribe_from_redirect`)."""
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {"client_id": form["client_id"],
                                 "redirect_uri": redirect_uri, "tenants": choices,
                                 "scopes": frozenset((form.get("scope") or "").split()),
                                 "expires_at": self.now() + CODE_TTL, "used": False}
        self.subscribe_from_redirect(redirect_uri)
        return code

    # -- token endpoint -------------------------------------------------------------------

    @staticmethod
    def _oauth_json(status: int, body: dict[str, Any]) -> flask.Response:
        response = flask.Response(json.dumps(body), status=status,
                                  content_type="application/json")
        response.headers["Cache-Control"] = "no-store"
        return response

    def _client_auth(self: Any) -> bool:
        form = flask.request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = flask.request.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except ValueError:
                return False
        return client_id == self.client_id and hmac.compare_digest(
            (secret or "").encode(), self.client_secret.encode())

    def _tokens(self: Any, access: Access, refresh: Refresh | None) -> flask.Response:
        body = {"id_token": _b64({"sub": "demo"}) + "..", "access_token": access.value,
                "expires_in": int(ACCESS_TTL.total_seconds()), "token_type": "Bearer",
                "scope": " ".join(sorted(access.grant.scopes))}
        if refresh is not None:
            body["refresh_token"] = refresh.value
        return self._oauth_json(200, body)

    def token(self: Any) -> flask.Response:
        """authorization_code and refresh_token grants; refresh tokens rotate."""
        form = flask.request.form
        with self._lock:
            if not self._client_auth():
                self._token_event("invalid_client")
                return self._oauth_json(400, {"error": "invalid_client"})
            grant_type, now = form.get("grant_type"), self.now()
            if grant_type == "authorization_code":
                code = self._codes.get(form.get("code") or "")
                if code is None or code["used"] or now >= code["expires_at"] or \
                        code["redirect_uri"] != form.get("redirect_uri"):
                    self._token_event("invalid_grant")
                    return self._oauth_json(400, {"error": "invalid_grant"})
                code["used"] = True
                event = str(uuid.uuid4())
                for tenant in code["tenants"]:
                    self._connect(tenant, event)
                grant = Grant(self.client_id, code["scopes"], auth_event=event)
                access, refresh = self._new_pair(grant, event)
                self._token_event("issued")
                offline = "offline_access" in code["scopes"]
                return self._tokens(access, refresh if offline else None)
            if grant_type == "refresh_token":
                refresh = self._refresh.get(form.get("refresh_token") or "")
                if refresh is None or refresh.grant.revoked or \
                        now >= refresh.issued_at + REFRESH_TTL:
                    self._token_event("invalid_grant")
                    return self._oauth_json(400, {"error": "invalid_grant"})
                if refresh.used:
                    self._token_event("old_refresh_token_used")
                    self._violation("old_refresh_token_used", "a rotated refresh token reused")
                    return self._oauth_json(400, {"error": "invalid_grant"})
                refresh.used = True
                access, new = self._new_pair(refresh.grant, refresh.grant.auth_event)
                self._token_event("refreshed")
                return self._tokens(access, new)
            self._token_event("unsupported_grant_type")
            return self._oauth_json(400, {"error": "unsupported_grant_type"})
