"""Pytest plugin: a served Xero emulator, contract-checked and strict.

Enable with ``pytest_plugins = ["tests.fixtures_xero"]``. Every exchange with the API and
``/connections`` is validated against Xero's OpenAPI documents; anything a real Xero would
punish is recorded in ``emulator.violations``. Either fails the test at teardown; a test that
provokes a violation on purpose takes it (``emulator.take_violations()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from providers.xero.emulator import XeroEmulator
from tests.contract.xero_openapi import validate_exchange


def _attach_contract_check(emulator: XeroEmulator) -> None:
    emulator.contract_errors = []  # type: ignore[attr-defined]

    def hook(request: Any, response: Any) -> None:
        emulator.contract_errors.extend(validate_exchange(request, response))  # type: ignore[attr-defined]

    emulator.exchange_hook = hook


@pytest.fixture
def make_xero_emulator() -> Iterator[Callable[..., XeroEmulator]]:
    created: list[XeroEmulator] = []

    def factory(**kwargs: Any) -> XeroEmulator:
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("contacts", 20)  # a first sync within one minute's 55 calls
        kwargs.setdefault("invoices", 50)
        emulator = XeroEmulator(**kwargs)
        _attach_contract_check(emulator)
        emulator.serve()
        created.append(emulator)
        return emulator

    yield factory
    problems: list[str] = []
    for emulator in created:
        if emulator.server is not None:
            emulator.server.shutdown()
        problems += list(emulator.contract_errors)  # type: ignore[attr-defined]
        problems += [f"exchange hook raised: {e}" for e in emulator.hook_errors]
        problems += [f"{v['kind']}: {v['detail']}" for v in emulator.violations]
    if problems:
        shown = "\n".join(p[:2000] for p in problems[:8])
        pytest.fail(f"{len(problems)} Xero contract problem(s) or violation(s):\n{shown}",
                    pytrace=False)


@pytest.fixture
def xero_emulator(make_xero_emulator: Callable[..., XeroEmulator]) -> XeroEmulator:
    return make_xero_emulator()
