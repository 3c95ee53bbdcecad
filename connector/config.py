"""Configuration from environment variables, with defaults that run the demo on one machine.

Every variable is listed in the README. Production sets them; the demo and the tests rely on the
defaults (SQLite under instance/, the emulators on loopback).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from connector.resources import data_dir
from providers.plugin import LedgerPlugin
from providers.plugins import PLUGINS, by_key

# The source tree's root: only meaningful in a checkout (tests, `make translations`).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# DATA_DIR as the process started with it (default ./instance): the database, letters, caches.
INSTANCE_DIR = data_dir()

# Fixed, public demo secrets: only `connector demo` (on loopback) may run with them.
DEMO_ENCRYPTION_KEY = "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="
DEMO_SECRET_KEY = "demo-only-secret-key"  # noqa: S105

LedgerValues = Mapping[str, Mapping[str, str | None]]  # plug-in key → Setting.env → value


def ledger_values(plugins: tuple[LedgerPlugin, ...],
                  environ: Mapping[str, str] | None = None) -> dict[str, dict[str, str | None]]:
    """Each plug-in's settings from the environment, by its own variable names; an unset or
    empty variable takes the plug-in's default."""
    env = environ or {}
    return {plugin.key: {s.env: (env.get(s.env) or "").strip() or s.default
                         for s in plugin.settings}
            for plugin in plugins}


@dataclass(frozen=True)
class Settings:
    """All runtime settings; build with :func:`load_settings` or :meth:`replace` in tests."""

    database_url: str = f"sqlite:///{INSTANCE_DIR / 'connector.sqlite3'}"
    secret_key: str = DEMO_SECRET_KEY
    token_encryption_keys: tuple[str, ...] = (DEMO_ENCRYPTION_KEY,)
    public_url: str = "http://127.0.0.1:5000"
    # The ledgers (providers.plugins) and their settings' values, read by each plug-in's own
    # variable names (Setting.env); tests change them with with_ledger().
    plugins: tuple[LedgerPlugin, ...] = PLUGINS
    ledgers: LedgerValues = field(default_factory=lambda: ledger_values(PLUGINS))
    sync_interval_minutes: int = 15
    lease_seconds: int = 120  # a crashed worker's companies are taken over after this
    worker_stop_timeout: float = 30.0  # a stopping worker lets running work end this long
    retry_base_seconds: int = 30  # first backoff of a failed ledger write; syncs wait 4x
    # (connect, read) seconds a ledger call may take before its answer counts as lost
    ledger_timeout: tuple[float, float] = (5.0, 30.0)
    engine_interval_seconds: int = 60  # how often a worker runs the engine for every company
    outbox_interval_seconds: float = 3.0  # how often a worker sends waiting ledger writes
    partner_name: str = "Incassopartner (demo)"  # the collection partner whose paper is used
    partner_address: str = "Voorbeeldstraat 1, 3511 AA Utrecht"
    partner_wki_number: str = "WKI-000000 (demo)"
    partner_kvk: str = "00000000"
    partner_phone: str = "030 000 00 00"
    # Channels: unset SMTP_URL / TWILIO_ACCOUNT_SID means messages are recorded, not sent.
    smtp_url: str | None = None
    mail_from: str = "herinneringen@partner.example"
    letter_dir: str = str(INSTANCE_DIR / "letters")
    # Bounces: VERP envelope sender (bounces+<delivery id>@domain) and where DSNs come in.
    bounce_address: str | None = None
    bounce_smtp_listen: str | None = None  # "host:port" of the bounce listener (worker)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_whatsapp_content_sid: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    session_cookie_secure: bool = False
    demo: bool = False
    data_dir: str = str(INSTANCE_DIR)
    # Addresses/networks of reverse proxies whose X-Forwarded-* headers are believed; none: ignored.
    trusted_proxies: tuple[str, ...] = ()
    # Only `connector demo` and the tests' own settings set this: the public demo secrets are
    # refused everywhere else, whatever PUBLIC_URL says (see connector.check_settings).
    allow_demo_secrets: bool = False
    # /metrics wants "Authorization: Bearer <this>" when set; unset, only loopback clients.
    metrics_token: str | None = None

    def replace(self, **changes: object) -> Settings:
        return replace(self, **changes)

    def ledger(self, key: str) -> Mapping[str, str | None]:
        """A plug-in's settings' values, every one of its Settings present."""
        plugin = by_key(key, self.plugins)
        values = self.ledgers.get(key, {})
        return {s.env: values.get(s.env, s.default) for s in plugin.settings}

    def with_ledger(self, key: str, **values: object) -> Settings:
        """These settings with some of a plug-in's values changed, by variable name:
        ``settings.with_ledger(key, <PREFIX>_BASE_URL=emulator.url)``."""
        current = dict(self.ledger(key))
        unknown = set(values) - set(current)
        if unknown:
            raise TypeError(f"{key} has no settings {sorted(unknown)}")
        current.update({name: None if value is None else str(value)
                        for name, value in values.items()})
        return replace(self, ledgers={**self.ledgers, key: current})

    def with_plugin(self, plugin: LedgerPlugin, **values: object) -> Settings:
        """These settings with one more ledger (a test's own plug-in), its defaults filled in."""
        plugins = (*(p for p in self.plugins if p.key != plugin.key), plugin)
        added = replace(self, plugins=plugins,
                        ledgers={**self.ledgers, **ledger_values((plugin,))})
        return added.with_ledger(plugin.key, **values)

    @property
    def demo_ledger_settings(self) -> list[str]:
        """Variables of the ledgers that still hold their public demo default."""
        return [s.env for plugin in self.plugins for s in plugin.settings
                if s.demo_default and self.ledger(plugin.key)[s.env] == s.default]

    @property
    def uses_demo_secrets(self) -> bool:
        return (
            self.secret_key == DEMO_SECRET_KEY
            or DEMO_ENCRYPTION_KEY in self.token_encryption_keys
        )


def ledger_settings_table(plugins: tuple[LedgerPlugin, ...] = PLUGINS) -> str:
    """The README's rows for the ledgers' variables, made from the plug-ins' Settings (the
    README holds them between markers; a test keeps the two the same)."""
    rows = []
    for plugin in plugins:
        for setting in plugin.settings:
            default = f"`{setting.default}`" if setting.default is not None else "unset"
            rows.append(f"| `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(rows)


def _split_keys(value: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in value.split(",") if k.strip())


def parse_networks(value: str) -> tuple[str, ...]:
    """TRUSTED_PROXIES: comma-separated addresses or networks (``10.0.0.0/8``), checked here."""
    networks = _split_keys(value)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES: {network!r} is not an IP address or network") from None
    return networks


def enabled_plugins(value: str, plugins: tuple[LedgerPlugin, ...] = PLUGINS,
                    ) -> tuple[LedgerPlugin, ...]:
    """LEDGERS: the plug-in keys this instance offers, comma-separated; empty: every one.

    A ledger left out is not offered, built or checked: an instance that serves the creditors
    of one ledger need not hold credentials for the others.
    """
    keys = _split_keys(value)
    if not keys:
        return plugins
    known = {plugin.key for plugin in plugins}
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValueError(f"LEDGERS: unknown ledger {', '.join(unknown)}; "
                         f"choose from {', '.join(sorted(known))}")
    return tuple(plugin for plugin in plugins if plugin.key in keys)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (``os.environ`` unless given)."""
    env = os.environ if environ is None else environ
    data = data_dir(env)
    defaults = Settings(database_url=f"sqlite:///{data / 'connector.sqlite3'}",
                        letter_dir=str(data / "letters"), data_dir=str(data))

    def get(name: str, default: str) -> str:
        return (env.get(name) or "").strip() or default  # empty counts as unset

    public_url = get("PUBLIC_URL", defaults.public_url).rstrip("/")
    interval = get("SYNC_INTERVAL_MINUTES", str(defaults.sync_interval_minutes))
    if not interval.isdigit() or int(interval) < 1:
        raise ValueError("SYNC_INTERVAL_MINUTES must be a whole number of minutes, at least 1")
    plugins = enabled_plugins(get("LEDGERS", ""), defaults.plugins)
    return Settings(
        database_url=get("DATABASE_URL", defaults.database_url),
        secret_key=get("SECRET_KEY", defaults.secret_key),
        token_encryption_keys=_split_keys(get("TOKEN_ENCRYPTION_KEYS", ""))
        or defaults.token_encryption_keys,
        public_url=public_url,
        plugins=plugins,
        ledgers=ledger_values(plugins, env),
        sync_interval_minutes=int(interval),
        lease_seconds=int(get("LEASE_SECONDS", str(defaults.lease_seconds))),
        worker_stop_timeout=float(get("WORKER_STOP_TIMEOUT",
                                      str(defaults.worker_stop_timeout))),
        retry_base_seconds=int(get("RETRY_BASE_SECONDS", str(defaults.retry_base_seconds))),
        ledger_timeout=(float(get("LEDGER_CONNECT_TIMEOUT", str(defaults.ledger_timeout[0]))),
                        float(get("LEDGER_READ_TIMEOUT", str(defaults.ledger_timeout[1])))),
        engine_interval_seconds=int(get("ENGINE_INTERVAL_SECONDS",
                                        str(defaults.engine_interval_seconds))),
        outbox_interval_seconds=float(get("OUTBOX_INTERVAL_SECONDS",
                                          str(defaults.outbox_interval_seconds))),
        partner_name=get("PARTNER_NAME", defaults.partner_name),
        partner_address=get("PARTNER_ADDRESS", defaults.partner_address),
        partner_wki_number=get("PARTNER_WKI_NUMBER", defaults.partner_wki_number),
        partner_kvk=get("PARTNER_KVK", defaults.partner_kvk),
        partner_phone=get("PARTNER_PHONE", defaults.partner_phone),
        smtp_url=get("SMTP_URL", "") or None,
        mail_from=get("MAIL_FROM", defaults.mail_from),
        letter_dir=get("LETTER_DIR", defaults.letter_dir),
        bounce_address=get("BOUNCE_ADDRESS", "") or None,
        bounce_smtp_listen=get("BOUNCE_SMTP_LISTEN", "") or None,
        twilio_account_sid=get("TWILIO_ACCOUNT_SID", "") or None,
        twilio_auth_token=get("TWILIO_AUTH_TOKEN", "") or None,
        twilio_from=get("TWILIO_FROM", "") or None,
        twilio_whatsapp_from=get("TWILIO_WHATSAPP_FROM", "") or None,
        twilio_whatsapp_content_sid=get("TWILIO_WHATSAPP_CONTENT_SID", "") or None,
        twilio_base_url=get("TWILIO_BASE_URL", defaults.twilio_base_url).rstrip("/"),
        session_cookie_secure=public_url.startswith("https://"),
        data_dir=defaults.data_dir,
        trusted_proxies=parse_networks(get("TRUSTED_PROXIES", "")),
        metrics_token=get("METRICS_TOKEN", "") or None,
    )
