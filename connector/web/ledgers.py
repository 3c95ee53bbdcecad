"""The ledgers' plug-ins as the pages need them: by key or URL slug, names, regions.

Every page that names a platform goes through here (or through ``ProviderInfo``), so the web
layer never lists platforms itself; see providers.plugins.
"""

from __future__ import annotations

from babel.lists import format_list
from flask import abort, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape

from connector.web.access import services
from providers.plugin import LedgerPlugin
from providers.plugins import UnknownPlugin, by_key, by_slug


def plugins() -> tuple[LedgerPlugin, ...]:
    return services().settings.plugins


def plugin_for_key(key: str | None) -> LedgerPlugin | None:
    try:
        return by_key(key or "", plugins())
    except UnknownPlugin:
        return None


def plugin_for_slug(slug: str) -> LedgerPlugin:
    """The plug-in behind ``/connect/<slug>`` (its key works too, as old links used it); 404."""
    for lookup in (by_slug, by_key):
        try:
            return lookup(slug, plugins())
        except UnknownPlugin:
            continue
    abort(404)


def connect_slug(key: str | None) -> str:
    """The URL slug of the platform stored as ``key`` on a company."""
    plugin = plugin_for_key(key)
    return plugin.slug if plugin is not None else (key or "")


def platform(key: str | None) -> str:
    """A platform's name (brand names are the same in every language)."""
    plugin = plugin_for_key(key)
    return plugin.display_name if plugin is not None else (key or "–")


def region_names(plugin: LedgerPlugin) -> dict[str, str]:
    """The plug-in's regions by code, each country named in the UI's language (Babel)."""
    locale = get_locale()
    names = locale.territories if locale is not None else {}
    return {region.code: names.get(region.territory, region.code) for region in plugin.regions}


def connect_links() -> Markup:
    """A link to connect (and so sign in with) each ledger, as a list in the UI's language:
    "<ledger> of <ledger>", with the names the plug-ins give."""
    locale = get_locale()
    links = [Markup('<a href="{}">{}</a>').format(url_for("connect.start", slug=p.slug),
                                                  p.display_name) for p in plugins()]
    pattern = format_list([f"{{{i}}}" for i in range(len(links))], style="or",
                          locale=str(locale) if locale else "nl") if links else ""
    return escape(pattern).format(*links)
