"""An in-memory emulator of Moneybird's REST API v2 and OAuth (Doorkeeper) for tests and demos.

It follows Moneybird's OpenAPI document (tests/contract/moneybird-openapi.json) for paths, field
names, formats, status codes and error bodies, and reproduces the documented pitfalls (default
``period:this_year``, silently ignored filter keys, 150 requests / 5 minutes with epoch
``Retry-After``, max 100 ids per synchronization call, 401 for a missing scope, ...), so a client
that works against the emulator has a fair chance of working against the real host.

Built on :mod:`providers.emulator_kit` (server, faults, call log, rate windows, webhook delivery,
OAuth pieces, HTML). One module per job: ``app`` (the class, dispatch, Flask app), ``routes``,
``resources`` (API handlers), ``filters``, ``render``, ``state`` (ledger mechanics), ``control``
(what tests and demos call), ``oauth``, ``views`` (pages for people), ``pdf``, ``common``;
the seeded data comes from :mod:`providers.moneybird.emulator_data`.
"""

from __future__ import annotations

from providers.emulator_kit.server import EmulatorServer
from providers.moneybird.emulator.app import MoneybirdEmulator, run
from providers.moneybird.emulator.common import ApiError
from providers.moneybird.emulator.pdf import simple_pdf

__all__ = ["ApiError", "EmulatorServer", "MoneybirdEmulator", "run", "simple_pdf"]
