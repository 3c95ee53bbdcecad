"""The consent endpoints and CLI banners of the emulators, pinned to the letter.

The consent POST, the client/redirect checks and the CLI entry are written once in the
emulator kit with hooks per platform; these answers were recorded before that move and must
not change: the redirect URLs (parameters and their order), the error pages' messages, the
out-of-band page and every banner line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from providers.emulator_kit import server as kit_server
from providers.exact_online.emulator import ExactEmulator
from providers.moneybird.emulator import MoneybirdEmulator
from providers.plugins import PLUGINS
from providers.xero.emulator import XeroEmulator

BACK = "https://app.example/cb?x=1"
MB_DENIED = ("error=access_denied&error_description=The+resource+owner+or+authorization+server"
             "+denied+the+request.")


def _moneybird(redirect_uri: str | None) -> tuple[Any, str, str, list[str]]:
    emu = MoneybirdEmulator(seed=3, contacts=5, invoices=5, redirect_uri=redirect_uri)
    return emu, "/oauth/authorize", "administration_ids", list(emu._adms)


def _exact(redirect_uri: str | None) -> tuple[Any, str, str, list[str]]:
    emu = ExactEmulator(seed=3, accounts=5, open_items=5, redirect_uri=redirect_uri)
    return emu, "/api/oauth2/auth", "division", [str(c) for c in emu._divs]


def _xero(redirect_uri: str | None) -> tuple[Any, str, str, list[str]]:
    emu = XeroEmulator(seed=3, contacts=5, invoices=5, redirect_uri=redirect_uri)
    return emu, "/identity/connect/authorize", "tenant", list(emu.orgs)


MAKERS: dict[str, Callable[[str | None], tuple[Any, str, str, list[str]]]] = {
    "moneybird": _moneybird, "exact": _exact, "xero": _xero,
}
DENIED = {"moneybird": MB_DENIED, "exact": "error=access_denied", "xero": "error=access_denied"}


def _post(name: str, registered: str | None, **form: Any) -> Any:
    emu, path, field, choices = MAKERS[name](registered)
    try:
        base = {"client_id": emu.client_id, "redirect_uri": BACK, "state": "st4te"}
        data = {**base, **form}
        if data.get(field) == "first":
            data[field] = choices[:1]
        return emu.app.test_client().post(
            path, data={k: v for k, v in data.items() if v is not None}
        )
    finally:
        emu.close()


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize(("form", "query"), [
    ({"decision": "deny", "choice": "first"}, "{denied}&state=st4te"),
    ({"decision": "deny", "state": None}, "{denied}"),
    ({"decision": "approve"}, "{denied}&state=st4te"),  # nothing chosen
    ({"decision": "approve", "choice": ["999999"]}, "{denied}&state=st4te"),  # unknown only
])
def test_a_refused_consent_goes_back_as_access_denied(name: str, form: dict[str, Any],
                                                      query: str) -> None:
    field = MAKERS[name](None)[2]
    form = {field if k == "choice" else k: v for k, v in form.items()}
    resp = _post(name, BACK, **form)
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"{BACK}&" + query.format(denied=DENIED[name])


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize(("state", "tail"), [("st4te", "&state=st4te"), ("", "")])
def test_an_approved_consent_goes_back_with_a_code(name: str, state: str, tail: str) -> None:
    field = MAKERS[name](None)[2]
    resp = _post(name, BACK, decision="approve", state=state, **{field: "first"})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(f"{BACK}&code=") and location.endswith(tail)
    assert parse_qs(urlsplit(location).query)["code"][0]


def test_moneybird_shows_an_out_of_band_code_on_a_page() -> None:
    resp = _post("moneybird", None, decision="approve", redirect_uri="urn:ietf:wg:oauth:2.0:oob",
                 administration_ids="first")
    assert resp.status_code == 200 and resp.content_type == "text/html; charset=utf-8"
    assert "<h1>Autorisatiecode</h1><p><code>" in resp.get_data(as_text=True)


KIT_HINTS = {
    "moneybird": "<p>Controleer de instellingen van de applicatie (client_id en redirect_uri).</p>",
    "exact": "<p>Controleer de instellingen van de app (client_id en redirect_uri).</p>",
    "xero": "",
}
REFUSALS = {
    "moneybird": ("Onbekende applicatie (client_id).", "De redirect_uri ontbreekt.",
                  "De redirect_uri komt niet overeen met de geregistreerde redirect URI."),
    "exact": ("Client with identifier &#x27;nope&#x27; not found.", "De redirect_uri ontbreekt.",
              "De redirect_uri komt niet exact overeen met de geregistreerde redirect URI."),
    "xero": ("unauthorized_client: Unknown client or client not enabled",
             "invalid_request: redirect_uri missing", "invalid_request: Invalid redirect_uri"),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("which", "values"), [
    (0, {"client_id": "nope"}),
    (1, {"redirect_uri": None}),
    (2, {"redirect_uri": "https://evil/cb"}),
])
def test_an_unknown_client_or_redirect_gets_an_error_page(
        name: str, method: str, which: int, values: dict[str, Any]) -> None:
    emu, path, field, choices = MAKERS[name](BACK)
    try:
        form = {"client_id": emu.client_id, "redirect_uri": BACK, "response_type": "code",
                "decision": "approve", field: choices[:1], **values}
        form = {k: v for k, v in form.items() if v is not None}
        client = emu.app.test_client()
        resp = client.get(path, query_string=form) if method == "GET" else client.post(
            path, data=form)
    finally:
        emu.close()
    assert resp.status_code == 400 and "Location" not in resp.headers
    body = resp.get_data(as_text=True)
    assert body.endswith(
        f"<h1>Er ging iets mis</h1><p>{REFUSALS[name][which]}</p>{KIT_HINTS[name]}</body></html>"
    )


@pytest.mark.parametrize(("name", "query"), [
    ("moneybird", "error=unsupported_response_type&error_description=The+authorization+server"
                  "+does+not+support+this+response+type.&state=s"),
    ("exact", "error=unsupported_response_type&state=s"),
])
def test_a_response_type_other_than_code_goes_back_as_unsupported(name: str, query: str) -> None:
    emu, path, _, _ = MAKERS[name](None)
    try:
        resp = emu.app.test_client().get(path, query_string={
            "client_id": emu.client_id, "redirect_uri": BACK, "response_type": "token",
            "state": "s"})
    finally:
        emu.close()
    assert resp.status_code == 302 and resp.headers["Location"] == f"{BACK}&{query}"


# ---------------------------------------------------------------------- CLI banners


def _banner(monkeypatch: pytest.MonkeyPatch, run: Callable[..., None], **kwargs: Any
            ) -> list[str]:
    printed: list[str] = []

    def serve(server: Any, lines: Iterable[str]) -> None:
        printed.extend(line.replace(server.url, "URL") for line in lines)
        server.shutdown()

    monkeypatch.setattr(kit_server, "serve_until_interrupted", serve)
    run(0, **kwargs)
    return printed


def test_the_cli_banners(monkeypatch: pytest.MonkeyPatch) -> None:
    from providers.exact_online.emulator import run as exact_run
    from providers.moneybird.emulator import run as moneybird_run
    from providers.snelstart.emulator import run as snelstart_run
    from providers.xero.emulator import run as xero_run

    assert _banner(monkeypatch, moneybird_run, seed=1, token="t") == [
        "Moneybird-emulator draait op URL",
        "  API:       URL/api/v2",
        "  OAuth:     URL/oauth/authorize  (client_id=demo-client, client_secret=demo-secret)",
        "  Overzicht: URL/_emulator/",
        "  Administraties: 458027300000007919, 458027300028096612, 458027300035263307",
        "  Persoonlijke API-token geregistreerd (alle administraties, sales_invoices+settings)",
    ]
    assert _banner(monkeypatch, exact_run, seed=1) == [
        "Exact Online-emulator draait op URL",
        "  API:       URL/api/v1/{divisie}/...  (en URL/api/v1/current/Me)",
        "  OAuth:     URL/api/oauth2/auth  (client_id=exact-demo-client, "
        "client_secret=exact-demo-secret)",
        "  Webhook-secret: exact-demo-webhook-secret",
        "  Overzicht: URL/_emulator/",
        "  Divisies:  3303502, 364689",
    ]
    xero = _banner(monkeypatch, xero_run, seed=1, token="t")
    assert xero[:5] == [
        "Xero-emulator draait op URL",
        "  API:       URL/api.xro/2.0/...  (header xero-tenant-id)",
        "  OAuth:     URL/identity/connect/authorize, URL/connect/token "
        "(client_id=xero-demo-client, client_secret=xero-demo-secret)",
        "  Webhook-sleutel: xero-demo-webhook-key",
        "  Overzicht: URL/_emulator/",
    ]
    assert xero[5].startswith("  Organisaties: Bakkerij Zonneveld B.V. (")
    assert xero[6:] == ["  Vaste access token geregistreerd (alle organisaties, verloopt niet)"]
    assert _banner(monkeypatch, snelstart_run, seed=1, client_key="ck") == [
        "SnelStart-emulator draait op URL",
        "  API:            URL/v2",
        "  Token:          URL/b2b/token",
        "  Overzicht:      URL/_emulator/",
        "  Administratie:  Bakkerij De Zon",
        "  Koppelsleutel:  demo-koppelsleutel-1-2dd5ad98475c41b1af3ef55c43ecf2b9",
        "  Ook geldig:     ck",
    ]



@pytest.mark.parametrize("plugin", [p for p in PLUGINS if p.demo and p.demo.run],
                         ids=lambda p: p.key)
def test_connector_emulator_runs_each_plugins_cli_entry(monkeypatch: pytest.MonkeyPatch,
                                                        plugin: Any) -> None:
    run = plugin.demo.run
    banner = _banner(monkeypatch, lambda port, **kw: run(port, 1, "tok"))
    assert banner[0] == f"{plugin.display_name}-emulator draait op URL"
