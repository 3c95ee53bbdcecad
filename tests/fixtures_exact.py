"""Pytest plugin: a served Exact Online emulator that fails the test on protocol violations.

Enable with ``pytest_plugins = ["tests.fixtures_exact"]``. Anything a real Exact would punish
(refresh-token reuse, early refresh, a missing ``$select``/mandatory ``$filter``, an expired access
token, no division in the URL, tripping the error block, ...) is recorded in
``emulator.violations``; a test that provokes one on purpose must clear it
(``emulator.take_violations()``), otherwise teardown fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from providers.exact_online.emulator import ExactEmulator


def _finish(emulator: ExactEmulator) -> list[str]:
    if emulator.server is not None:
        emulator.server.shutdown()
    problems = [f"{v['kind']}: {v['detail']}" for v in emulator.violations]
    problems += [f"exchange hook raised: {e}" for e in emulator.hook_errors]
    return problems


@pytest.fixture
def make_exact_emulator() -> Iterator[Callable[..., ExactEmulator]]:
    """Factory: ``make_exact_emulator(**kwargs)`` -> served, strictness-checked emulator."""
    created: list[ExactEmulator] = []

    def factory(**kwargs: Any) -> ExactEmulator:
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("divisions", 2)
        kwargs.setdefault("accounts", 80)
        kwargs.setdefault("open_items", 300)
        emulator = ExactEmulator(**kwargs)
        emulator.serve(host="127.0.0.1", port=0)
        created.append(emulator)
        return emulator

    yield factory
    problems: list[str] = []
    for emulator in created:
        problems.extend(_finish(emulator))
    if problems:
        shown = "\n".join(p[:2000] for p in problems[:10])
        pytest.fail(
            f"{len(problems)} Exact Online protocol violation(s) "
            f"(first {min(10, len(problems))}):\n{shown}",
            pytrace=False,
        )


@pytest.fixture
def exact_emulator(make_exact_emulator: Callable[..., ExactEmulator]) -> ExactEmulator:
    """A small served emulator (seed 7, 2 divisions, 80 accounts, 300 open items)."""
    return make_exact_emulator()
