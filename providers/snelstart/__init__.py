"""SnelStart (snelstart.nl): B2B API v2, connected with a koppelsleutel, synced by polling."""

from __future__ import annotations

from providers.snelstart.provider import SnelStartProvider

__all__ = ["SnelStartProvider"]
