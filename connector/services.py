"""What every part of the connector needs, built once per process and passed along."""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.channels.base import Channel
from connector.channels.setup import build_channels
from connector.config import Settings
from connector.crypto import SecretBox
from connector.db import Database
from connector.models import Company, Connection, Grant
from connector.partner import LivePartner
from connector.platforms import build_registry, shared_budgets
from connector.tokens import GrantTokens
from providers.base import Ledger, Provider, RegionalProvider
from providers.registry import ProviderRegistry


class NotConnected(Exception):
    """The company has no working connection (disconnected, or waiting for a reconnect)."""


@dataclass
class Services:
    settings: Settings
    db: Database
    box: SecretBox
    providers: ProviderRegistry
    channels: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        db = Database(settings.database_url)
        return cls(
            settings=settings,
            db=db,
            box=SecretBox(settings.token_encryption_keys),
            providers=build_registry(settings, shared_budgets(db)),
            channels=build_channels(settings, LivePartner(db, settings),  # type: ignore[arg-type]
                                    db=db),
        )

    def provider_for(self, key: str, region: str | None = None) -> Provider:
        """The provider, for the region the tokens belong to where the platform has regions."""
        provider = self.providers.get(key)
        return provider.for_region(region) if isinstance(provider, RegionalProvider) else provider

    def tokens(self, grant: Grant) -> GrantTokens:
        return GrantTokens(self.db, self.box, self.provider_for(grant.provider, grant.region),
                           grant.id)

    def ledger_for(self, company: Company) -> Ledger:
        connection: Connection | None = company.connection
        if connection is None or connection.status != "active" or connection.grant is None:
            raise NotConnected(f"company {company.id} is not connected")
        provider = self.provider_for(connection.provider, connection.grant.region)
        return provider.ledger(connection.tenant_id, self.tokens(connection.grant))
