"""Exact Online, described for the connector (see :mod:`providers.plugin`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from providers.base import Provider
from providers.exact_online import regions
from providers.exact_online.provider import DAILY_LIMIT, MINUTELY_LIMIT, ExactOnlineProvider
from providers.http import Budgets
from providers.plugin import (
    N_,
    DemoEmulator,
    DemoHook,
    LedgerPlugin,
    PaymentField,
    PluginContext,
    Region,
    Setting,
    emulator_command,
)

KEY = "exact_online"
SETTINGS = (
    Setting("EXACT_ONLINE_CLIENT_ID", "exact-demo-client", demo_default=True,
            help="from your Exact Online app"),
    Setting("EXACT_ONLINE_CLIENT_SECRET", "exact-demo-secret", secret=True, demo_default=True,
            help="from your Exact Online app"),
    Setting("EXACT_ONLINE_WEBHOOK_SECRET", "exact-demo-webhook-secret", secret=True,
            demo_default=True,
            help="the app's separate webhook secret (not the client secret)"),
    Setting("EXACT_ONLINE_BASE_URL", None,
            help="unset: the real host of each region; set it to the emulator for tests and "
                 "demos"),
    Setting("EXACT_RATE_WINDOW", "60",
            help="seconds in Exact Online's minute budget (55 calls of Exact's 60, per "
                 "division, shared by all workers); only tests and the bench shorten it, "
                 "together with the emulator's clock; never a higher limit"),
)
# Babel names each territory in the reader's language (Dutch: "Verenigd Koninkrijk", …).
TERRITORIES = {"nl": "NL", "be": "BE", "de": "DE", "uk": "GB", "fr": "FR", "es": "ES",
               "us": "US"}
REGIONS = tuple(Region(code, TERRITORIES[code]) for code in regions.HOSTS)

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
PAYMENT_FIELDS = (
    PaymentField("journal_code", N_("Dagboek (code)"), max_length=10),
    PaymentField("gl_account_id", N_("Tegenrekening (grootboek-id)"), max_length=None),
)


def check_payment_settings(values: Mapping[str, str]) -> dict[str, str]:
    """Exact books a payment only with a bank journal and an offset G/L account (a GUID)."""
    journal, account = values.get("journal_code", ""), values.get("gl_account_id", "")
    errors = {}
    if account and not GUID.match(account):
        errors["gl_account_id"] = N_("Een grootboek-id ziet eruit als 8-4-4-4-12 tekens.")
    if bool(journal) != bool(account):
        errors["journal_code"] = N_("Vul dagboek én tegenrekening in, of geen van beide.")
    return errors


def build(context: PluginContext) -> Provider:
    values = context.values
    budgets = None
    if context.budget is not None:  # shared by every worker, through the database
        window = int(values["EXACT_RATE_WINDOW"] or 60)
        budgets = Budgets(
            context.budget("exact-minute", MINUTELY_LIMIT, window),
            context.budget("exact-day", DAILY_LIMIT, 86_400, sliding=False, max_wait=0),
        )
    return ExactOnlineProvider(
        values["EXACT_ONLINE_CLIENT_ID"] or "",
        values["EXACT_ONLINE_CLIENT_SECRET"] or "",
        values["EXACT_ONLINE_WEBHOOK_SECRET"] or "",
        base_url=(values["EXACT_ONLINE_BASE_URL"] or "").rstrip("/") or None,
        budgets=budgets,
        timeout=context.timeout,
    )


def start_emulator(values: Mapping[str, str | None], host: str, port: int,
                   seed: int) -> DemoEmulator:
    from providers.exact_online.emulator import ExactEmulator

    emulator = ExactEmulator(seed=seed, client_id=values["EXACT_ONLINE_CLIENT_ID"],
                             client_secret=values["EXACT_ONLINE_CLIENT_SECRET"],
                             webhook_secret=values["EXACT_ONLINE_WEBHOOK_SECRET"])
    return emulator.serve(host, port)


PLUGIN = LedgerPlugin(
    key=KEY,
    slug="exact-online",
    display_name="Exact Online",
    build=build,
    settings=SETTINGS,
    regions=REGIONS,
    default_region=regions.DEFAULT,
    payment_fields=PAYMENT_FIELDS,
    check_payment_settings=check_payment_settings,
    payment_settings_help=N_("Zonder dagboek en tegenrekening zetten wij een betaling alleen als "
                             "notitie in Exact Online: uw eigen bankkoppeling boekt het geld, zo "
                             "telt niets dubbel. Vul beide in als betalingen via ons lopen; vraag "
                             "uw boekhouder welke."),
    demo=DemoHook(start=start_emulator, base_url_setting="EXACT_ONLINE_BASE_URL",
                  default_port=5002, port_option="--exact-port",
                  run=emulator_command("providers.exact_online.emulator"),
                  views_hint="/_emulator/   Exact Online: our notes; mark paid"),
)
