"""Builds the provider registry from the connector's settings."""

from __future__ import annotations

from dataclasses import dataclass

from connector.budgets import DbRateBudget
from connector.config import Settings
from connector.db import Database
from providers.exact_online import ExactOnlineProvider
from providers.exact_online.provider import DAILY_LIMIT, MINUTELY_LIMIT
from providers.http import Budgets
from providers.moneybird import MoneybirdProvider
from providers.registry import ProviderRegistry


@dataclass(frozen=True)
class SharedBudgets:
    moneybird: DbRateBudget
    exact_online: Budgets


def shared_budgets(db: Database, settings: Settings) -> SharedBudgets:
    """Budgets every worker shares through the database (see connector.budgets)."""
    return SharedBudgets(
        moneybird=DbRateBudget(db, "moneybird", settings.moneybird_rate_limit,
                               settings.moneybird_rate_window),
        exact_online=Budgets(
            DbRateBudget(db, "exact-minute", MINUTELY_LIMIT, settings.exact_rate_window),
            DbRateBudget(db, "exact-day", DAILY_LIMIT, 86_400, sliding=False, max_wait=0),
        ),
    )


def build_registry(settings: Settings, budgets: SharedBudgets | None = None) -> ProviderRegistry:
    registry = ProviderRegistry()
    moneybird = MoneybirdProvider(
        settings.moneybird_client_id,
        settings.moneybird_client_secret,
        settings.moneybird_base_url,
        rate_limit=settings.moneybird_rate_limit,
    )
    if budgets is not None:
        moneybird.budget = budgets.moneybird
    registry.register(moneybird)
    registry.register(
        ExactOnlineProvider(
            settings.exact_online_client_id,
            settings.exact_online_client_secret,
            settings.exact_online_webhook_secret,
            base_url=settings.exact_online_base_url,
            budgets=budgets.exact_online if budgets is not None else None,
        )
    )
    return registry
