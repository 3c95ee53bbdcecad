"""An in-memory emulator of Exact Online's REST API v1 and OAuth2 for tests and demos.

It follows /work/shared/reference/exact-online.md: the token rules (600 s access tokens with
``expires_in`` as a string, single-use rotating refresh tokens, no refresh before 570 s, 30-day
refresh expiry), the OData conventions (``{"d": {"results": [...], "__next": ...}}``,
``/Date(ms)/``, 60-row pages and 1,000-row bulk/sync pages, mandatory ``$select``/``$filter``,
``Timestamp`` row versions, ``sync/Deleted``), the per-division minutely/daily rate limits with
their ``X-RateLimit-*`` headers (epoch milliseconds), the 10-errors-per-endpoint-per-hour block,
write-backs (CommunicationNotes, BankEntries/CashEntries) and webhooks signed with the app's
webhook secret.

Regions: Exact has one host per country (NL ``https://start.exactonline.nl``, BE ``.be``,
DE ``.de``, UK ``.co.uk``, FR ``.fr``, ES ``.es``, US ``https://start.exactonline.com``); OAuth,
REST and tokens are bound to that host. The emulator serves a single host with exactly Exact's
paths (``/api/oauth2/auth``, ``/api/oauth2/token``, ``/api/v1/current/Me``,
``/api/v1/{division}/...``), so a client only swaps the base URL.

Strictness: behaviour a real Exact would punish (refresh-token reuse, early refresh, missing
``$select``/mandatory ``$filter``, no division in the URL, an expired access token, tripping the
error block, ...) is recorded in ``violations``; the pytest fixture fails the test when any are
left.

Built on :mod:`providers.emulator_kit`. One module per job: ``app`` (the class, dispatch, rate
limits, Flask app), ``sets`` (entity sets), ``query`` (OData reads), ``odata`` ($filter),
``resources`` (writes and special reads), ``render``, ``state`` (clock and ledger mechanics),
``control`` (what tests and demos call), ``oauth``, ``views``, ``schema`` and ``common``; the
seeded data comes from :mod:`providers.exact_online.emulator_data`.
"""

from __future__ import annotations

from providers.emulator_kit.server import EmulatorServer
from providers.exact_online.emulator.app import ExactEmulator, run
from providers.exact_online.emulator.common import (
    EARLY_REFRESH_BODY,
    EARLY_REFRESH_REASON,
    OLD_REFRESH_BODY,
    SELECT_MESSAGE,
    ApiError,
    dumps,
    error_body,
)

__all__ = [
    "EARLY_REFRESH_BODY",
    "EARLY_REFRESH_REASON",
    "OLD_REFRESH_BODY",
    "SELECT_MESSAGE",
    "ApiError",
    "EmulatorServer",
    "ExactEmulator",
    "dumps",
    "error_body",
    "run",
]
