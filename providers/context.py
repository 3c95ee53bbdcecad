"""What a ledger needs from its provider, handed over frozen.

A ledger used to read fields off its provider object, which others change after building it
(shared budgets, timeouts in tests): a ledger's behaviour then depended on when it looked. Now
the provider builds a :class:`LedgerContext` when it makes a ledger, and the ledger reads
only that. A ledger never imports its provider module, so ``client.py`` and ``provider.py``
no longer import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import requests

from providers.base import TokenSource
from providers.http import DEFAULT_TIMEOUT, ApiClient, Budgets, Observer, RateBudget, Unauthorized


@dataclass(frozen=True)
class LedgerContext:
    """One tenant's connection to its platform, as the ledger for it needs it.

    ``base_url`` is the tenant's API root (the administration or division is in it);
    ``budget`` is keyed by ``tenant_id``; ``today`` is the platform's day (Dutch);
    ``webhook_secret`` is the app-wide secret where the platform signs with one (Exact).
    """

    tenant_id: str
    tokens: TokenSource = field(repr=False)
    base_url: str
    session: requests.Session = field(repr=False)
    today: Callable[[], date]
    budget: RateBudget | Budgets | None = None
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    observe: Observer | None = None
    interpret_401: Unauthorized | None = None
    webhook_secret: str = field(default="", repr=False)

    def api(self) -> ApiClient:
        """An API client for this tenant (one per ledger: it counts the ledger's calls)."""
        return ApiClient(self.base_url, self.tokens, budget=self.budget,
                         budget_key=self.tenant_id, observe=self.observe, timeout=self.timeout,
                         session=self.session, interpret_401=self.interpret_401)
