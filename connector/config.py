"""Configuration from environment variables, with defaults that run the demo on one machine.

Every variable is listed in the README. Production sets them; the demo and the tests rely on the
defaults (SQLite under instance/, the emulators on loopback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Fixed, public demo secrets: fine on loopback, refused when PUBLIC_URL is anything else.
DEMO_ENCRYPTION_KEY = "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q="
DEMO_SECRET_KEY = "demo-only-secret-key"  # noqa: S105


@dataclass(frozen=True)
class Settings:
    """All runtime settings; build with :func:`load_settings` or :meth:`replace` in tests."""

    database_url: str = f"sqlite:///{INSTANCE_DIR / 'connector.sqlite3'}"
    secret_key: str = DEMO_SECRET_KEY
    token_encryption_keys: tuple[str, ...] = (DEMO_ENCRYPTION_KEY,)
    public_url: str = "http://127.0.0.1:5000"
    moneybird_client_id: str = "demo-client"
    moneybird_client_secret: str = "demo-secret"  # noqa: S105 - demo default, see README
    moneybird_base_url: str = "https://moneybird.com"
    exact_online_client_id: str = "exact-demo-client"
    exact_online_client_secret: str = "exact-demo-secret"  # noqa: S105 - demo default, see README
    exact_online_webhook_secret: str = "exact-demo-webhook-secret"  # noqa: S105 - demo default
    exact_online_base_url: str | None = None  # None: the real host of each region
    sync_interval_minutes: int = 15
    partner_name: str = "Incassopartner (demo)"  # the collection partner whose paper is used
    session_cookie_secure: bool = False
    demo: bool = False

    def replace(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @property
    def uses_demo_secrets(self) -> bool:
        return (
            self.secret_key == DEMO_SECRET_KEY
            or DEMO_ENCRYPTION_KEY in self.token_encryption_keys
        )


def _split_keys(value: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in value.split(",") if k.strip())


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (``os.environ`` unless given)."""
    env = os.environ if environ is None else environ
    defaults = Settings()

    def get(name: str, default: str) -> str:
        return (env.get(name) or "").strip() or default  # empty counts as unset

    public_url = get("PUBLIC_URL", defaults.public_url).rstrip("/")
    interval = get("SYNC_INTERVAL_MINUTES", str(defaults.sync_interval_minutes))
    if not interval.isdigit() or int(interval) < 1:
        raise ValueError("SYNC_INTERVAL_MINUTES must be a whole number of minutes, at least 1")
    return Settings(
        database_url=get("DATABASE_URL", defaults.database_url),
        secret_key=get("SECRET_KEY", defaults.secret_key),
        token_encryption_keys=_split_keys(get("TOKEN_ENCRYPTION_KEYS", ""))
        or defaults.token_encryption_keys,
        public_url=public_url,
        moneybird_client_id=get("MONEYBIRD_CLIENT_ID", defaults.moneybird_client_id),
        moneybird_client_secret=get("MONEYBIRD_CLIENT_SECRET", defaults.moneybird_client_secret),
        moneybird_base_url=get("MONEYBIRD_BASE_URL", defaults.moneybird_base_url).rstrip("/"),
        exact_online_client_id=get("EXACT_ONLINE_CLIENT_ID", defaults.exact_online_client_id),
        exact_online_client_secret=get("EXACT_ONLINE_CLIENT_SECRET",
                                       defaults.exact_online_client_secret),
        exact_online_webhook_secret=get("EXACT_ONLINE_WEBHOOK_SECRET",
                                        defaults.exact_online_webhook_secret),
        exact_online_base_url=get("EXACT_ONLINE_BASE_URL", "").rstrip("/") or None,
        sync_interval_minutes=int(interval),
        partner_name=get("PARTNER_NAME", defaults.partner_name),
        session_cookie_secure=public_url.startswith("https://"),
    )
