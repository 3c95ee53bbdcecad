"""The provider boundary: no module under connector/ or templates/ names a platform.

A ledger is one folder under providers/ plus one line in providers/plugins.py; everything else
renders from the plug-ins. A platform's key, URL slug, display name or one of its platform-only
payment field names anywhere in connector/ or templates/ is a leak this test reports, with the
file and line.

Not searched, on purpose:
- ``connector/migrations/``: a migration is history (its docstring says why a column came, once,
  for the platform that needed it) and is never rewritten;
- ``connector/translations/``: the catalogue holds the plug-ins' own msgids (their labels name
  their platform), extracted from providers/*/plugin.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.config import PROJECT_ROOT, ledger_settings_table
from providers.plugin import LedgerPlugin, PaymentField
from providers.plugins import PLUGINS, by_key, by_slug

SEARCHED = ("connector", "templates")
NOT_SEARCHED = ("connector/migrations", "connector/translations")
TEXT_SUFFIXES = {".py", ".html", ".txt", ".j2", ".jinja", ".md", ".css", ".js", ".json", ".cfg",
                 ".ini", ".toml", ".yaml", ".yml", ".xml", ".svg", ".mako", ".sql"}


def _words(text: str) -> str:
    """A name as a pattern that also finds it written with _ or - or a space between words."""
    return r"[\s_-]*".join(re.escape(part) for part in re.split(r"[\s_-]+", text) if part)


def _platform_only_fields(plugin: LedgerPlugin) -> list[str]:
    others = {f.name for p in PLUGINS if p is not plugin for f in p.payment_fields}
    return [f.name for f in plugin.payment_fields if f.name not in others]


def platform_pattern(plugins: tuple[LedgerPlugin, ...] = PLUGINS) -> re.Pattern[str]:
    names = {name for plugin in plugins
             for name in (plugin.key, plugin.slug, plugin.display_name)}
    fields = {name for plugin in plugins for name in _platform_only_fields(plugin)}
    alternatives = [_words(n) for n in sorted(names)] + [re.escape(f) for f in sorted(fields)]
    # Open at the end: "MoneybirdProvider" and "Moneybirds" are the name too.
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + ")", re.IGNORECASE)


def _searched_files() -> Iterator[Path]:
    for top in SEARCHED:
        for path in sorted((PROJECT_ROOT / top).rglob("*")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if (path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in relative
                    and not relative.startswith(NOT_SEARCHED)):
                yield path


def mentions(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in _searched_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if match := pattern.search(line):
                relative = path.relative_to(PROJECT_ROOT)
                found.append(f"{relative}:{number}: {match.group(0)!r} in {line.strip()[:120]}")
    return found


def test_no_module_under_connector_or_templates_names_a_platform():
    found = mentions(platform_pattern())
    assert not found, ("platform names outside providers/ (render them from the plug-in, "
                       "or read a capability):\n" + "\n".join(found))


@pytest.mark.parametrize("text", [
    "if company.provider == 'moneybird':", "Koppel Exact Online", "exact-online", "EXACT_ONLINE",
    "settings.get('journal_code')", "MONEYBIRD_BASE_URL", "via Moneybirds eigen herinnering",
    "from providers.moneybird import MoneybirdProvider", "ExactOnlineProvider(",
    "/connect/exact_online"])
def test_the_search_finds_each_way_of_naming_a_platform(text):
    assert platform_pattern().search(text), text


@pytest.mark.parametrize("text", [
    "exactly one worker", "the exact BIK amount", "ledger_account", "a bird's money",
    "company.provider|platform"])
def test_the_search_leaves_ordinary_words_alone(text):
    assert not platform_pattern().search(text), text


def test_a_new_plugin_is_searched_for_too():
    newcomer = LedgerPlugin(key="snel_boek", slug="snel-boek", display_name="Snel Boek",
                            build=lambda context: None,  # type: ignore[arg-type,return-value]
                            payment_fields=(PaymentField("grootboek_code", "Grootboek"),))
    pattern = platform_pattern((*PLUGINS, newcomer))
    for text in ("Snel Boek", "SnelBoekProvider", "snel_boek", "/connect/snel-boek",
                 "grootboek_code"):
        assert pattern.search(text), text


def test_every_plugin_is_found_by_key_and_slug_and_each_key_once():
    keys = [p.key for p in PLUGINS]
    assert len(set(keys)) == len(keys) and len({p.slug for p in PLUGINS}) == len(keys)
    for plugin in PLUGINS:
        assert by_key(plugin.key) is plugin and by_slug(plugin.slug) is plugin


def test_the_readme_lists_every_plugin_setting_as_the_plugin_describes_it():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    missing = [row for row in ledger_settings_table().splitlines() if row not in readme]
    assert not missing, "README rows out of date (connector.config.ledger_settings_table()):\n" \
        + "\n".join(missing)
    envs = [s.env for p in PLUGINS for s in p.settings]
    assert len(envs) == len(set(envs)), "two plug-ins read the same variable"
