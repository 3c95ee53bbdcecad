"""Pytest plugin: a served Moneybird emulator whose every API exchange is contract-checked.

Enable with ``pytest_plugins = ["tests.fixtures_moneybird"]``. Any response (including 4xx/429)
that does not conform to Moneybird's OpenAPI document fails the test at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from providers.moneybird.emulator import MoneybirdEmulator
from tests.contract.openapi import validate_exchange


def _attach_contract_check(emulator: MoneybirdEmulator) -> None:
    emulator.contract_errors = []  # type: ignore[attr-defined]

    def hook(request: Any, response: Any) -> None:
        emulator.contract_errors.extend(validate_exchange(request, response))  # type: ignore[attr-defined]

    emulator.exchange_hook = hook


def _finish(emulator: MoneybirdEmulator) -> None:
    if emulator.server is not None:
        emulator.server.shutdown()
    problems = list(getattr(emulator, "contract_errors", [])) + [
        f"exchange hook raised: {e}" for e in emulator.hook_errors
    ]
    if problems:
        shown = "\n".join(p[:2000] for p in problems[:5])
        pytest.fail(
            f"{len(problems)} Moneybird contract problem(s) "
            f"(first {min(5, len(problems))}):\n{shown}",
            pytrace=False,
        )


@pytest.fixture
def make_moneybird_emulator() -> Iterator[Callable[..., MoneybirdEmulator]]:
    """Factory: ``make_moneybird_emulator(**kwargs)`` -> served, contract-checked emulator."""
    created: list[MoneybirdEmulator] = []

    def factory(**kwargs: Any) -> MoneybirdEmulator:
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("contacts", 40)
        kwargs.setdefault("invoices", 150)
        emulator = MoneybirdEmulator(**kwargs)
        _attach_contract_check(emulator)
        emulator.serve(host="127.0.0.1", port=0)
        created.append(emulator)
        return emulator

    yield factory
    failures = []
    for emulator in created:
        try:
            _finish(emulator)
        except pytest.fail.Exception as exc:
            failures.append(str(exc))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


@pytest.fixture
def moneybird_emulator(
    make_moneybird_emulator: Callable[..., MoneybirdEmulator],
) -> MoneybirdEmulator:
    """A small served emulator (seed 7, 40 contacts, 150 invoices) with contract validation."""
    return make_moneybird_emulator()
