"""A ledger gets a frozen context from its provider, never the provider object itself."""

from __future__ import annotations

import dataclasses

import pytest

from providers.context import LedgerContext
from providers.exact_online.provider import ExactOnlineProvider
from providers.moneybird.provider import MoneybirdProvider


def test_a_ledger_keeps_the_context_it_was_made_with() -> None:
    provider = MoneybirdProvider("client", "secret", "https://moneybird.example")
    ledger = provider.ledger("adm1", tokens=None)  # type: ignore[arg-type]
    provider.timeout = (1.0, 1.0)  # changed afterwards: the ledger made before keeps its own
    assert ledger.context.timeout != (1.0, 1.0)
    assert ledger.api.base_url == "https://moneybird.example/api/v2/adm1"
    assert ledger.api.budget is provider.budget and ledger.api.budget_key == "adm1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ledger.context.base_url = "https://elsewhere.example"  # type: ignore[misc]
    assert not hasattr(ledger, "provider")


def test_exacts_context_carries_region_budgets_and_webhook_secret() -> None:
    provider = ExactOnlineProvider("client", "secret", "hook-secret").for_region("de")
    ledger = provider.ledger("4711", tokens=None)  # type: ignore[arg-type]
    context: LedgerContext = ledger.context
    assert context.base_url == "https://start.exactonline.de/api/v1/4711"
    assert context.budget is provider.budgets and context.observe is not None
    assert context.webhook_secret == "hook-secret" and "hook-secret" not in repr(context)
