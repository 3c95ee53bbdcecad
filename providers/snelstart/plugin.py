"""SnelStart, described for the connector (see :mod:`providers.plugin`)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from providers.base import Provider
from providers.plugin import (
    N_,
    DemoEmulator,
    DemoHook,
    LedgerPlugin,
    PaymentField,
    PluginContext,
    Setting,
)
from providers.snelstart.emulator_data import DEMO_SUBSCRIPTION_KEY
from providers.snelstart.provider import (
    AUTH_URL,
    BASE_URL,
    RATE_LIMIT,
    RATE_WINDOW_SECONDS,
    SnelStartProvider,
)

KEY = "snelstart"
SETTINGS = (
    Setting("SNELSTART_SUBSCRIPTION_KEY", DEMO_SUBSCRIPTION_KEY, secret=True, demo_default=True,
            help="our integration's subscription key from SnelStart's developer portal "
                 "(sent as Ocp-Apim-Subscription-Key)"),
    Setting("SNELSTART_BASE_URL", BASE_URL,
            help="the B2B API v2; a bare host (the emulator for tests and demos) gets /v2 added"),
    Setting("SNELSTART_AUTH_URL", None,
            help="the token endpoint; unset: auth.snelstart.nl for the real API, else "
                 "/b2b/token on the host of SNELSTART_BASE_URL (the emulator)"),
    Setting("SNELSTART_RATE_LIMIT", str(RATE_LIMIT),
            help="calls per minute per administration, shared by all workers; SnelStart "
                 "publishes no limit, so this is a conservative pace"),
    Setting("SNELSTART_RATE_WINDOW", str(RATE_WINDOW_SECONDS),
            help="seconds in that window; only tests and the bench shorten it"),
)
PAYMENT_FIELDS = (
    PaymentField("bank_journal_id", N_("Bankdagboek (id)"), choice_label=N_("Bankdagboek"),
                 from_ledger=True, max_length=36),
)


def api_url(values: Mapping[str, str | None]) -> str:
    """The API root; a bare host (the demo hands the emulator's) gets SnelStart's ``/v2``."""
    base = (values.get("SNELSTART_BASE_URL") or BASE_URL).rstrip("/")
    return base if base.endswith("/v2") else f"{base}/v2"


def token_url(values: Mapping[str, str | None]) -> str:
    explicit = values.get("SNELSTART_AUTH_URL")
    if explicit:
        return explicit
    api = api_url(values)
    return AUTH_URL if api == BASE_URL else f"{api.removesuffix('/v2')}/b2b/token"


def check_payment_settings(values: Mapping[str, str]) -> dict[str, str]:
    journal = values.get("bank_journal_id", "")
    if journal and len(journal.replace("-", "")) != 32:
        return {"bank_journal_id": N_("Een SnelStart-id ziet eruit als 8-4-4-4-12 tekens.")}
    return {}


def build(context: PluginContext) -> Provider:
    values = context.values
    rate_limit = int(values.get("SNELSTART_RATE_LIMIT") or RATE_LIMIT)
    window = int(values.get("SNELSTART_RATE_WINDOW") or RATE_WINDOW_SECONDS)
    budget = context.budget(KEY, rate_limit, window) if context.budget is not None else None
    return SnelStartProvider(values.get("SNELSTART_SUBSCRIPTION_KEY") or "", api_url(values),
                             token_url(values), budget=budget, rate_limit=rate_limit,
                             timeout=context.timeout)


def start_emulator(values: Mapping[str, str | None], host: str, port: int,
                   seed: int) -> DemoEmulator:
    from providers.snelstart.emulator import SnelStartEmulator

    emulator = SnelStartEmulator(
        seed=seed, subscription_key=values.get("SNELSTART_SUBSCRIPTION_KEY")
        or DEMO_SUBSCRIPTION_KEY)
    return emulator.serve(host, port)


def run_emulator(port: int, seed: int, token: str | None) -> None:
    """``connector emulator snelstart [--token K]``: K is pre-issued as a working koppelsleutel;
    the subscription key is SNELSTART_SUBSCRIPTION_KEY's (or the demo's)."""
    from providers.snelstart.emulator import run

    run(port, seed=seed, client_key=token,
        subscription_key=os.environ.get("SNELSTART_SUBSCRIPTION_KEY") or DEMO_SUBSCRIPTION_KEY)


PLUGIN = LedgerPlugin(
    key=KEY,
    slug="snelstart",
    display_name="SnelStart",
    build=build,
    settings=SETTINGS,
    payment_fields=PAYMENT_FIELDS,
    check_payment_settings=check_payment_settings,
    payment_settings_help=N_("Kies een bankdagboek om een betaling die wij registreren als "
                             "bankboeking op de factuur te boeken. Zonder bankdagboek leggen "
                             "wij de betaling alleen vast als document bij de verkoopboeking."),
    key_help_template="connect/snelstart_key.html",
    demo=DemoHook(start=start_emulator, base_url_setting="SNELSTART_BASE_URL",
                  default_port=5005, port_option="--snelstart-port", run=run_emulator,
                  views_hint="/_emulator/   SnelStart: the koppelsleutel to paste, our "
                             "documents and bank bookings; mark paid"),
)
