"""What every sync bench does alike: a throw-away database with the ledgers pointed at their
emulators, one timed sync that must end ok, and the two rows comparing its calls with the
floor. Written once so a platform's bench holds only its floors and its changes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from connector.config import Settings
from connector.services import Services
from connector.sync import sync_company


def throwaway_services(**ledgers: dict[str, object]) -> Services:
    """Services on a fresh SQLite file, with each ledger's settings (by key) changed."""
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
                        token_encryption_keys=(Fernet.generate_key().decode(),),
                        public_url="http://127.0.0.1:9")
    for key, values in ledgers.items():
        settings = settings.with_ledger(key, **values)
    services = Services.from_settings(settings)
    services.db.upgrade()
    return services


def timed_sync(services: Services, company: str) -> float:
    """The seconds one sync of ``company`` took; a sync that did not end ok stops the bench."""
    started = time.perf_counter()
    result = sync_company(services, company, trigger="bench")
    seconds = time.perf_counter() - started
    if result.outcome != "ok":
        raise RuntimeError(f"bench sync failed: {result}")
    return seconds


def call_rows(label: str, calls: int, minimum: int, seconds: float,
              target: float = 1.05) -> list[dict[str, Any]]:
    """A sync's API calls next to their floor (ok within ``target`` times it) and its time."""
    return [
        {"measure": f"{label}: API calls", "value": calls, "minimum": minimum,
         "ratio": calls / minimum, "target": f"{target}x", "ok": calls <= target * minimum},
        {"measure": f"{label}: seconds", "value": round(seconds, 2)},
    ]
