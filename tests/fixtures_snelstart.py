"""Pytest plugin: the ``snelstart`` fixture, a contract-checked emulator with its provider.

Enable with ``pytest_plugins = ["tests.fixtures_snelstart"]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.snelstart.emulator import SnelStartEmulator
from tests.snelstart_world import SnelStartWorld, finish, serve


@pytest.fixture
def snelstart() -> Iterator[SnelStartWorld]:
    world = serve(SnelStartEmulator(seed=7))
    yield world
    finish(world)
