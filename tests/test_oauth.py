"""The shared OAuth base (providers/oauth.py): one classification of the token endpoint."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from providers.base import RateLimited, ReconnectRequired, RefreshTooEarly, Rejected, Transient
from providers.exact_online.provider import ExactOnlineProvider
from providers.http import utcnow
from providers.moneybird.provider import MoneybirdProvider
from providers.oauth import OAuthClient

SECRET_REFRESH = "rt-very-secret-refresh-token"
SECRET_CODE = "code-very-secret"


class _TokenEndpoint(BaseAdapter):
    """Answers every request with one canned response (no network)."""

    def __init__(self, status: int, body: object, headers: dict | None = None,
                 reason: str | None = None) -> None:
        super().__init__()
        self.status, self.body, self.headers = status, body, headers or {}
        self.reason = reason
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        response = requests.Response()
        response.status_code, response.reason = self.status, self.reason
        response._content = (self.body if isinstance(self.body, bytes)
                             else json.dumps(self.body).encode())
        response.headers.update({"Content-Type": "application/json", **self.headers})
        response.url, response.request = request.url, request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def endpoint(monkeypatch):
    """Route the OAuth sessions to a canned token endpoint: ``endpoint(status, body)``."""
    holder: dict[str, _TokenEndpoint] = {}
    make_session = OAuthClient._session

    def session(self, redirect_uri=None):
        made = make_session(self, redirect_uri)
        made.mount("http://", holder["adapter"])
        made.mount("https://", holder["adapter"])
        return made

    monkeypatch.setattr(OAuthClient, "_session", session)

    def answer(status: int, body: object, headers: dict | None = None,
               reason: str | None = None) -> _TokenEndpoint:
        holder["adapter"] = _TokenEndpoint(status, body, headers, reason)
        return holder["adapter"]

    return answer


def moneybird() -> MoneybirdProvider:
    return MoneybirdProvider("client", "client-secret", "https://moneybird.example")


def exact() -> ExactOnlineProvider:
    return ExactOnlineProvider("client", "client-secret", "hook", region="be")


def _refused(provider, exc_type):
    with pytest.raises(exc_type) as caught:
        provider.refresh(SECRET_REFRESH)
    assert SECRET_REFRESH not in str(caught.value)
    return caught.value


def test_a_dead_refresh_token_means_reconnect(endpoint) -> None:
    endpoint(400, {"error": "invalid_grant", "error_description": "revoked"})
    _refused(moneybird(), ReconnectRequired)
    endpoint(401, b"<html>Unauthorized</html>", {"Content-Type": "text/html"})
    _refused(moneybird(), ReconnectRequired)
    endpoint(401, {"error": "invalid_client"})
    _refused(exact(), ReconnectRequired)


def test_a_passing_failure_is_transient(endpoint) -> None:
    endpoint(503, b"<html>down</html>", {"Content-Type": "text/html"})
    _refused(moneybird(), Transient)
    endpoint(400, {"error": "invalid_request"})
    _refused(exact(), Transient)


def test_a_rate_limited_token_endpoint_says_when(endpoint) -> None:
    endpoint(429, {"error": "too_many_requests"}, {"Retry-After": "30"})
    error = _refused(moneybird(), RateLimited)
    assert utcnow() < error.retry_at <= utcnow() + timedelta(seconds=31)


def test_exacts_refresh_rules(endpoint) -> None:
    endpoint(400, {"error": "invalid_request",
                   "error_description": "Access token not expired yet"})
    _refused(exact(), RefreshTooEarly)
    endpoint(400, {"error": "invalid_request", "error_description": "Old refresh token used"})
    _refused(exact(), ReconnectRequired)
    endpoint(400, {"error": "invalid_grant", "error_description": "Refresh token expired"})
    _refused(exact(), ReconnectRequired)
    # "rejected with response code 401 and reason Access Token not expired" (reference §2.2)
    endpoint(401, b"", {"Content-Type": "text/html"}, reason="Access Token not expired")
    _refused(exact(), RefreshTooEarly)


def test_the_regions_token_endpoint_is_asked(endpoint) -> None:
    adapter = endpoint(200, {"access_token": "a", "refresh_token": "r2", "expires_in": "600",
                             "token_type": "bearer"})
    tokens = exact().refresh(SECRET_REFRESH)
    assert (tokens.refresh_token, tokens.expires_in) == ("r2", 600)
    assert adapter.sent[0].url == "https://start.exactonline.be/api/oauth2/token"


def test_a_refresh_token_not_rotated_is_kept(endpoint) -> None:
    endpoint(200, {"access_token": "new", "expires_in": 3600, "token_type": "bearer"})
    tokens = moneybird().refresh(SECRET_REFRESH)
    assert (tokens.access_token, tokens.refresh_token) == ("new", SECRET_REFRESH)


def test_a_refused_code_is_rejected_without_the_code(endpoint) -> None:
    endpoint(400, {"error": "invalid_grant"})
    with pytest.raises(Rejected) as caught:
        moneybird().exchange_code(SECRET_CODE, "https://app.example/callback")
    assert SECRET_CODE not in str(caught.value) and "invalid_grant" in str(caught.value)


def test_authorization_urls() -> None:
    mb = parse_qs(urlsplit(moneybird().authorization_url("https://app/cb", "st8")).query)
    assert mb["scope"] == ["sales_invoices settings"] and mb["state"] == ["st8"]
    url = exact().authorization_url("https://app/cb", "st9")
    assert url.startswith("https://start.exactonline.be/api/oauth2/auth?")
    query = parse_qs(urlsplit(url).query)
    assert query["force_login"] == ["0"] and query["state"] == ["st9"] and "scope" not in query
