"""The plug-in contract: everything the connector needs to know about one ledger, in one place.

A ledger is one folder under ``providers/`` whose ``plugin.py`` defines ``PLUGIN``, a
:class:`LedgerPlugin`, plus one line in :data:`providers.plugins.PLUGINS`. The connector reads
settings, builds providers, draws the connect and payment-settings pages, starts the demo's
emulators and lists the README's variables from these descriptions; it never tests a platform's
name. Nothing here imports from ``connector``.

Labels and help texts are Dutch msgids marked with :func:`N_`; the web layer translates them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Protocol

from providers.base import Provider
from providers.http import DEFAULT_TIMEOUT


def N_(message: str) -> str:  # the gettext convention for "translate later"
    """Marks a Dutch msgid for extraction (``pybabel -k N_``); the web layer translates it."""
    return message


@dataclass(frozen=True)
class Setting:
    """One environment variable the ledger reads; the README's table is made from these."""

    env: str  # e.g. "XERO_CLIENT_ID"
    default: str | None = None  # None: unset (the plug-in decides whether it may be)
    secret: bool = False  # never logged, never shown
    # The default is a public demo value: refused outside `connector demo` and the tests,
    # like the connector's own SECRET_KEY (see connector.check_settings).
    demo_default: bool = False
    help: str = ""


@dataclass(frozen=True)
class Region:
    """A place the platform runs a separate service (Exact Online: nl, be, …)."""

    code: str
    territory: str  # ISO 3166 code: the web layer names it in the reader's language (Babel)


@dataclass(frozen=True)
class PaymentField:
    """One setting of how the creditor's ledger books a payment we register."""

    name: str  # key in the company's stored payment settings
    label: str  # Dutch msgid, N_()
    help: str = ""
    # The label when the field is a choice from the ledger's list (default: ``label``).
    choice_label: str = ""
    # The ledger lists the values (Ledger.payment_setting_choices(name)); otherwise free text.
    from_ledger: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # fixed choices (value, Dutch label)
    digits_only: bool = False  # an id that is a number on this platform
    max_length: int | None = 64  # None: no limit (a check_payment_settings rule decides)


class BudgetFactory(Protocol):
    """Makes a rate budget every worker shares (through the database, see connector.budgets)."""

    def __call__(self, name: str, limit: int, window_seconds: float, *, sliding: bool = True,
                 max_wait: float = 10.0) -> Any: ...


@dataclass(frozen=True)
class PluginContext:
    """What building a provider needs: its settings' values and a shared budget maker."""

    values: Mapping[str, str | None]  # by Setting.env; defaults filled in
    budget: BudgetFactory | None = None  # None: per-process budgets (tools, some tests)
    demo: bool = False
    timeout: tuple[float, float] = DEFAULT_TIMEOUT  # (connect, read) seconds per ledger call


class DemoEmulator(Protocol):
    """A platform emulator the demo (and the tests) run on loopback."""

    url: str

    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class DemoHook:
    """How ``connector demo`` runs this ledger without the internet."""

    # start(values, host, port, seed): the seeded emulator, serving, with the settings' values.
    start: Callable[[Mapping[str, str | None], str, int, int], DemoEmulator]
    base_url_setting: str  # the Setting.env that points the provider at the emulator
    default_port: int
    # One line for the demo's console, after the emulator's URL: where to look at what we wrote.
    views_hint: str = "/_emulator/"
    # `connector demo`'s option for the emulator's port (default ``--<slug>-port``).
    port_option: str = ""
    # `connector emulator <slug>`: serve the seeded emulator until Ctrl-C (port, seed, and a
    # fixed access token to register, if any). None: no such command.
    run: Callable[[int, int, str | None], None] | None = None


def emulator_command(module: str) -> Callable[[int, int, str | None], None]:
    """A :attr:`DemoHook.run` that calls ``module.run(port, seed=, token=)``, importing the
    emulator only when the command runs (emulators are demo and test code)."""

    def run(port: int, seed: int, token: str | None) -> None:
        import_module(module).run(port, seed=seed, token=token)

    return run


def no_payment_errors(values: Mapping[str, str]) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class LedgerPlugin:
    """One ledger, described for the connector."""

    key: str  # stored on companies and grants: "moneybird", "exact_online", "xero"
    slug: str  # in URLs: /connect/<slug>
    display_name: str  # "Exact Online"
    build: Callable[[PluginContext], Provider]
    settings: tuple[Setting, ...] = ()
    regions: tuple[Region, ...] = ()  # empty: one service worldwide
    default_region: str | None = None
    payment_fields: tuple[PaymentField, ...] = ()
    # Field name → Dutch msgid, for settings that do not fit together (e.g. a journal without
    # an account). Called with the submitted values, stripped.
    check_payment_settings: Callable[[Mapping[str, str]], dict[str, str]] = no_payment_errors
    # Dutch msgid shown above the payment settings: what happens when they are left empty.
    payment_settings_help: str = ""
    # Key-based ledgers (ProviderInfo.auth_kind == "client-key"): the connect page's
    # explanation of where the creditor finds the key (a template under templates/connect/).
    key_help_template: str | None = None
    # Capability send_own_reminder: the label (Dutch msgid) of the company's choice to send the
    # stamp step as the ledger's own reminder instead of our e-mail.
    own_reminder_label: str = ""
    demo: DemoHook | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
