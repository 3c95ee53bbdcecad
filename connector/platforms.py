"""Builds the provider registry from the connector's settings."""

from __future__ import annotations

from connector.config import Settings
from providers.exact_online import ExactOnlineProvider
from providers.moneybird import MoneybirdProvider
from providers.registry import ProviderRegistry


def build_registry(settings: Settings) -> ProviderRegistry:
    registry = ProviderRegistry()
    registry.register(
        MoneybirdProvider(
            settings.moneybird_client_id,
            settings.moneybird_client_secret,
            settings.moneybird_base_url,
        )
    )
    registry.register(
        ExactOnlineProvider(
            settings.exact_online_client_id,
            settings.exact_online_client_secret,
            settings.exact_online_webhook_secret,
            base_url=settings.exact_online_base_url,
        )
    )
    return registry
