"""The accounts a ledger lists for its payment settings, loaded for the settings form.

Kept out of ``settings_forms`` (which only builds forms) because it calls the ledger.
"""

from __future__ import annotations

import time
from typing import Any

from connector.budgets import Lane, budget_lane
from connector.services import NotConnected, Services
from providers.base import RateLimited, ReconnectRequired, Rejected, Transient
from providers.plugin import LedgerPlugin

CHOICES_FRESH_SECONDS = 300  # two API calls per company at most every five minutes
_choice_cache: dict[str, tuple[float, dict[str, list[tuple[str, str]]]]] = {}


class ChoicesUnavailable(Exception):
    """The ledger's list of accounts could not be loaded now."""


def ledger_payment_choices(services: Services, company: Any,
                           plugin: LedgerPlugin) -> dict[str, list[tuple[str, str]]]:
    """The ledger's accounts for each id field of the payment settings, where the platform
    lists them (``Capabilities.payment_setting_choices``); ``{}`` where it does not.

    Raises :class:`ChoicesUnavailable` when the ledger cannot be reached now (not connected,
    rate limit, error): the form then keeps its typed fields with a note.
    """
    registry = services.providers
    if company.provider not in registry or \
            not registry.get(company.provider).info.capabilities.payment_setting_choices:
        return {}
    cached = _choice_cache.get(company.id)
    if cached and time.monotonic() - cached[0] < CHOICES_FRESH_SECONDS:
        return cached[1]
    try:
        ledger = services.ledger_for(company)
        with budget_lane(Lane.SCHEDULED_SYNC):  # a page never waits for the budget
            choices = {field.name: ledger.payment_setting_choices(field.name)
                       for field in plugin.payment_fields if field.from_ledger}
    except (NotConnected, RateLimited, ReconnectRequired, Rejected, Transient) as exc:
        raise ChoicesUnavailable(type(exc).__name__) from None
    _choice_cache[company.id] = (time.monotonic(), choices)
    return choices
