"""Builds the provider registry from the connector's settings, through each ledger's plug-in."""

from __future__ import annotations

from connector.budgets import DbRateBudget
from connector.config import Settings
from connector.db import Database
from providers.plugin import BudgetFactory, PluginContext
from providers.registry import ProviderRegistry


def shared_budgets(db: Database) -> BudgetFactory:
    """Makes budgets every worker shares through the database (see connector.budgets)."""

    def budget(name: str, limit: int, window_seconds: float, *, sliding: bool = True,
               max_wait: float = 10.0) -> DbRateBudget:
        return DbRateBudget(db, name, limit, window_seconds, sliding=sliding, max_wait=max_wait)

    return budget


def build_registry(settings: Settings, budget: BudgetFactory | None = None) -> ProviderRegistry:
    """Every ledger's provider, built by its plug-in from its settings' values; without
    ``budget``, each provider keeps per-process budgets (tools, some tests)."""
    registry = ProviderRegistry()
    for plugin in settings.plugins:
        context = PluginContext(settings.ledger(plugin.key), budget=budget, demo=settings.demo,
                                timeout=settings.ledger_timeout)
        registry.register(plugin.build(context))
    return registry
