"""The registry of ledgers: one line per ledger, the only place a new one is listed.

Everything else (settings, the provider registry, the connect and settings pages, the CLI, the
demo, the README's variables) is made from these descriptions; see docs/adding-a-ledger.md.
"""

from __future__ import annotations

from providers.exact_online import plugin as exact_online
from providers.moneybird import plugin as moneybird
from providers.plugin import LedgerPlugin
from providers.snelstart import plugin as snelstart
from providers.xero import plugin as xero

PLUGINS: tuple[LedgerPlugin, ...] = (
    moneybird.PLUGIN,
    exact_online.PLUGIN,
    snelstart.PLUGIN,
    xero.PLUGIN,
)


class UnknownPlugin(KeyError):
    """No ledger has this key or slug."""


def by_key(key: str, plugins: tuple[LedgerPlugin, ...] | None = None) -> LedgerPlugin:
    """The plug-in stored as ``key`` on companies and grants."""
    for plugin in PLUGINS if plugins is None else plugins:
        if plugin.key == key:
            return plugin
    raise UnknownPlugin(key)


def by_slug(slug: str, plugins: tuple[LedgerPlugin, ...] | None = None) -> LedgerPlugin:
    """The plug-in behind ``/connect/<slug>``."""
    for plugin in PLUGINS if plugins is None else plugins:
        if plugin.slug == slug:
            return plugin
    raise UnknownPlugin(slug)
