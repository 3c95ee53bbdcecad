"""The call log: every API request an emulator answered, for budget and idempotency asserts."""

from __future__ import annotations

import threading
from typing import Any


class CallLog:
    """Records of ``{"method", "path", "query", "status", "at", ...}``; ``records`` is the
    list the emulators publish as ``calls`` (tests read it directly)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.records.append(entry)

    def count(
        self, method: str | None = None, path_contains: str | None = None, **fields: Any
    ) -> int:
        """How many calls match; a field given as None matches anything."""
        wanted = {k: v for k, v in fields.items() if v is not None}
        with self._lock:
            return sum(
                1
                for c in self.records
                if (method is None or c["method"] == method.upper())
                and (path_contains is None or path_contains in c["path"])
                and all(c.get(k) == v for k, v in wanted.items())
            )

    def clear(self) -> None:
        with self._lock:
            self.records.clear()
