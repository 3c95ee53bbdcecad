"""Compatibility: the shared emulator server moved into :mod:`providers.emulator_kit`.

Emulators written against this module (the Twilio one, the first Xero and SnelStart ones)
keep working; new code imports from ``providers.emulator_kit``.
"""

from __future__ import annotations

from providers.emulator_kit.faults import LOST_ANSWER, fault_kind
from providers.emulator_kit.html import html_page
from providers.emulator_kit.oauth import redirect_with
from providers.emulator_kit.server import EmulatorServer, Servable, drop_connection
from providers.emulator_kit.webhooks import DeliveryQueue

__all__ = [
    "LOST_ANSWER",
    "DeliveryQueue",
    "EmulatorServer",
    "Servable",
    "drop_connection",
    "fault_kind",
    "html_page",
    "redirect_with",
]
