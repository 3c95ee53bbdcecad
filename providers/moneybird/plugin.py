"""Moneybird, described for the connector (see :mod:`providers.plugin`)."""

from __future__ import annotations

from collections.abc import Mapping

from providers.base import Provider
from providers.moneybird.provider import RATE_LIMIT, RATE_WINDOW_SECONDS, MoneybirdProvider
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

KEY = "moneybird"
SETTINGS = (
    Setting("MONEYBIRD_CLIENT_ID", "demo-client", demo_default=True,
            help="from your Moneybird application"),
    Setting("MONEYBIRD_CLIENT_SECRET", "demo-secret", secret=True, demo_default=True,
            help="from your Moneybird application"),
    Setting("MONEYBIRD_BASE_URL", "https://moneybird.com",
            help="point at the emulator for tests and demos"),
    Setting("MONEYBIRD_RATE_LIMIT", str(RATE_LIMIT),
            help="calls per window of the per-administration budget all workers share "
                 "(Moneybird allows 150 per 5 minutes)"),
    Setting("MONEYBIRD_RATE_WINDOW", str(RATE_WINDOW_SECONDS),
            help="seconds in that window; only tests and the bench shorten it, together with "
                 "the emulator's clock"),
)

# How Moneybird books a payment we register (manual_payment_action); some need an account.
PAYMENT_ACTIONS = (
    ("", N_("Standaard van Moneybird (te koppelen betaling)")),
    ("payment_without_proof", N_("Betaling zonder bewijs")),
    ("private_payment", N_("Privébetaling (financiële rekening nodig)")),
    ("cash_payment", N_("Kasbetaling (financiële rekening nodig)")),
    ("balance_settlement", N_("Verrekening via een grootboekrekening (die is nodig)")),
)
NEEDS = {
    "private_payment": "financial_account_id",
    "cash_payment": "financial_account_id",
    "balance_settlement": "ledger_account_id",
}
PAYMENT_FIELDS = (
    PaymentField("manual_payment_action", N_("Hoe boekt Moneybird een betaling"),
                 choices=PAYMENT_ACTIONS),
    PaymentField("financial_account_id", N_("Financiële rekening (id)"),
                 choice_label=N_("Financiële rekening"), from_ledger=True, digits_only=True,
                 max_length=30),
    PaymentField("ledger_account_id", N_("Grootboekrekening (id)"),
                 choice_label=N_("Grootboekrekening"), from_ledger=True, digits_only=True,
                 max_length=30),
)


def check_payment_settings(values: Mapping[str, str]) -> dict[str, str]:
    """Some ways of booking need an account (ids are digits: ``digits_only``)."""
    needed = NEEDS.get(values.get("manual_payment_action", ""))
    if needed and not values.get(needed):
        return {needed: N_("Nodig voor deze manier van boeken.")}
    return {}


def build(context: PluginContext) -> Provider:
    values = context.values
    rate_limit = int(values["MONEYBIRD_RATE_LIMIT"] or RATE_LIMIT)
    window = int(values["MONEYBIRD_RATE_WINDOW"] or RATE_WINDOW_SECONDS)
    provider = MoneybirdProvider(
        values["MONEYBIRD_CLIENT_ID"] or "",
        values["MONEYBIRD_CLIENT_SECRET"] or "",
        (values["MONEYBIRD_BASE_URL"] or "").rstrip("/"),
        rate_limit=rate_limit,
        timeout=context.timeout,
    )
    if context.budget is not None:  # shared by every worker, through the database
        provider.budget = context.budget(KEY, rate_limit, window)
    return provider


def start_emulator(values: Mapping[str, str | None], host: str, port: int,
                   seed: int) -> DemoEmulator:
    from providers.moneybird.emulator import MoneybirdEmulator

    emulator = MoneybirdEmulator(seed=seed, client_id=values["MONEYBIRD_CLIENT_ID"],
                                 client_secret=values["MONEYBIRD_CLIENT_SECRET"])
    return emulator.serve(host, port)


PLUGIN = LedgerPlugin(
    key=KEY,
    slug="moneybird",
    display_name="Moneybird",
    build=build,
    settings=SETTINGS,
    payment_fields=PAYMENT_FIELDS,
    check_payment_settings=check_payment_settings,
    payment_settings_help=N_("Hoe een betaling die wij registreren in uw administratie wordt "
                             "geboekt. Laat leeg voor de standaard van Moneybird; vraag uw "
                             "boekhouder bij twijfel."),
    own_reminder_label=N_("Stempelherinnering via Moneybird versturen (Moneybirds eigen "
                          "herinnering, met de tekst van het stempel)"),
    demo=DemoHook(start=start_emulator, base_url_setting="MONEYBIRD_BASE_URL",
                  default_port=5001, port_option="--emulator-port",
                  run=emulator_command("providers.moneybird.emulator"),
                  views_hint="/_emulator/   Moneybird: our notes and payments; mark paid"),
)
