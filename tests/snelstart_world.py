"""A served SnelStart emulator whose every exchange is checked against our schema
(tests/contract/snelstart_schema.py), and a provider pointed at it: ``serve`` … ``finish``
fails the test on any non-conforming request or answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from providers.emulator_server import EmulatorServer
from providers.snelstart import SnelStartProvider
from providers.snelstart.emulator import DEMO_SUBSCRIPTION_KEY, SnelStartEmulator
from tests.contract.snelstart_schema import validate_exchange


@dataclass
class SnelStartWorld:
    emulator: SnelStartEmulator
    server: EmulatorServer
    provider: SnelStartProvider
    problems: list[str]

    @property
    def adm_id(self) -> str:
        return self.emulator.adm()["id"]

    def ledger(self, key: str | None = None) -> Any:
        tokens = self.provider.tokens_for(key or self.emulator.key_for())
        return self.provider.ledger(self.adm_id, tokens)


def serve(emulator: SnelStartEmulator, **provider_options: Any) -> SnelStartWorld:
    problems: list[str] = []

    def hook(request: Any, response: Any) -> None:
        problems.extend(validate_exchange(request, response))

    emulator.exchange_hook = hook
    server = emulator.serve()
    provider = SnelStartProvider(DEMO_SUBSCRIPTION_KEY, f"{server.url}/v2",
                                 f"{server.url}/b2b/token", **provider_options)
    return SnelStartWorld(emulator, server, provider, problems)


def finish(world: SnelStartWorld) -> None:
    world.server.shutdown()
    found = world.problems + [f"exchange hook raised: {e}" for e in world.emulator.hook_errors]
    if found:
        pytest.fail(f"{len(found)} SnelStart contract problem(s):\n" + "\n".join(found[:8]),
                    pytrace=False)


