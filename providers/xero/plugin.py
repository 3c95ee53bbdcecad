"""Xero, described for the connector (see :mod:`providers.plugin`).

Invoices in a currency our legal flow does not chase (anything but euro) are mirrored and
shown, with the reason in their ledger state; ``extra["chase_currencies"]`` names the
currencies the engine may chase for this ledger.
"""

from __future__ import annotations

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
    emulator_command,
)
from providers.xero.api import XeroBudgets
from providers.xero.mapping import CHASED_CURRENCIES
from providers.xero.provider import APP_MINUTE_LIMIT, DAY_LIMIT, MINUTE_LIMIT, XeroProvider

KEY = "xero"
SETTINGS = (
    Setting("XERO_CLIENT_ID", "xero-demo-client", demo_default=True,
            help="from your app at developer.xero.com"),
    Setting("XERO_CLIENT_SECRET", "xero-demo-secret", secret=True, demo_default=True,
            help="from your app at developer.xero.com"),
    Setting("XERO_WEBHOOK_KEY", "xero-demo-webhook-key", secret=True, demo_default=True,
            help="the webhook signing key of the app (Webhooks page of the app, whose "
                 "one delivery URL is <PUBLIC_URL>/webhooks/xero)"),
    Setting("XERO_BASE_URL", "https://api.xero.com",
            help="the API host (connections and /api.xro/2.0); the emulator in tests and demos"),
    Setting("XERO_IDENTITY_URL", None,
            help="the token host; unset: https://identity.xero.com, or XERO_BASE_URL when "
                 "that is not Xero's (the emulator serves everything on one port)"),
    Setting("XERO_LOGIN_URL", None,
            help="the consent host; unset: https://login.xero.com, or XERO_BASE_URL when that "
                 "is not Xero's"),
    Setting("XERO_RATE_WINDOW", "60",
            help="seconds in Xero's minute budget (55 of Xero's 60 calls per organisation, "
                 "shared by all workers); only tests and the bench shorten it, together with "
                 "the emulator's clock; never a higher limit"),
)
PAYMENT_FIELDS = (
    PaymentField("payment_account_id", N_("Rekening voor betalingen (AccountID)"),
                 choice_label=N_("Rekening voor betalingen"), from_ledger=True,
                 max_length=None,
                 help=N_("Een bankrekening of een rekening waarop betalingen mogen, uit het "
                         "rekeningschema van de organisatie.")),
)
REAL_API = "https://api.xero.com"
# The connector's one webhook URL for Xero (``<PUBLIC_URL>/webhooks/xero``). The DemoHook does
# not carry PUBLIC_URL, so the demo's emulator finds it beside the redirect URI of the first
# consent.
APP_WEBHOOK_PATH = f"/webhooks/{KEY}"


def _host(values: Mapping[str, str | None], name: str, real: str) -> str:
    """A host setting; unset, the real one, or the API host when that is an emulator."""
    base = (values["XERO_BASE_URL"] or REAL_API).rstrip("/")
    return (values[name] or (real if base == REAL_API else base)).rstrip("/")


def build(context: PluginContext) -> Provider:
    values = context.values
    budgets = None
    if context.budget is not None:  # shared by every worker, through the database
        window = int(values["XERO_RATE_WINDOW"] or 60)
        budgets = XeroBudgets(
            context.budget("xero-minute", MINUTE_LIMIT, window),
            context.budget("xero-day", DAY_LIMIT, 86_400, max_wait=0),
            context.budget("xero-app", APP_MINUTE_LIMIT, window),
        )
    return XeroProvider(
        values["XERO_CLIENT_ID"] or "",
        values["XERO_CLIENT_SECRET"] or "",
        values["XERO_WEBHOOK_KEY"] or "",
        base_url=(values["XERO_BASE_URL"] or REAL_API).rstrip("/"),
        identity_url=_host(values, "XERO_IDENTITY_URL", "https://identity.xero.com"),
        login_url=_host(values, "XERO_LOGIN_URL", "https://login.xero.com"),
        budgets=budgets,
        timeout=context.timeout,
    )


def start_emulator(values: Mapping[str, str | None], host: str, port: int,
                   seed: int) -> DemoEmulator:
    from providers.xero.emulator import XeroEmulator

    emulator = XeroEmulator(seed=seed, client_id=values["XERO_CLIENT_ID"] or "",
                            client_secret=values["XERO_CLIENT_SECRET"] or "",
                            webhook_key=values["XERO_WEBHOOK_KEY"] or "",
                            webhook_path=APP_WEBHOOK_PATH)
    return emulator.serve(host, port)


PLUGIN = LedgerPlugin(
    key=KEY,
    slug="xero",
    display_name="Xero",
    build=build,
    settings=SETTINGS,
    payment_fields=PAYMENT_FIELDS,
    payment_settings_help=N_("Zonder rekening zetten wij een betaling alleen als notitie in de "
                             "historie van de factuur in Xero: uw eigen bankkoppeling boekt het "
                             "geld, zo telt niets dubbel. Kies een rekening als betalingen via "
                             "ons lopen; vraag uw boekhouder welke."),
    demo=DemoHook(start=start_emulator, base_url_setting="XERO_BASE_URL", default_port=5004,
                  run=emulator_command("providers.xero.emulator"),
                  views_hint="/_emulator/   Xero: history notes and payments; pay an invoice"),
    extra={"chase_currencies": tuple(sorted(CHASED_CURRENCIES))},
)
