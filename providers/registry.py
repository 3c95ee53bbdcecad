"""The provider registry: platform key → a configured provider instance.

The connector fills it from its settings at start-up (see ``connector.platforms``); everything
else looks providers up here by the key stored on a company or grant.
"""

from __future__ import annotations

from collections.abc import Iterator

from providers.base import Provider


class UnknownProvider(KeyError):
    """A key no provider is registered under (e.g. a platform switched off in settings)."""


class ProviderRegistry:
    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def register(self, provider: Provider) -> None:
        self._providers[provider.info.key] = provider

    def get(self, key: str) -> Provider:
        try:
            return self._providers[key]
        except KeyError:
            raise UnknownProvider(key) from None

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def __contains__(self, key: object) -> bool:
        return key in self._providers
