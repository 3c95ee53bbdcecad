"""Shared HTTP behaviour: Retry-After parsing, proactive rate budget, error classification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine

from providers.base import RateLimited
from providers.http import RateBudget, describe_error, parse_retry_at

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_retry_after_epoch_seconds_is_a_timestamp_not_a_delay() -> None:
    epoch = int((NOW + timedelta(seconds=90)).timestamp())
    assert parse_retry_at({"Retry-After": str(epoch)}, NOW) == NOW + timedelta(seconds=90)


def test_retry_after_small_number_is_seconds() -> None:
    assert parse_retry_at({"Retry-After": "30"}, NOW) == NOW + timedelta(seconds=30)


def test_ratelimit_reset_used_when_no_retry_after() -> None:
    epoch = int((NOW + timedelta(minutes=4)).timestamp())
    assert parse_retry_at({"RateLimit-Reset": str(epoch)}, NOW) == NOW + timedelta(minutes=4)


def test_unparseable_retry_after_ignored() -> None:
    assert parse_retry_at({"Retry-After": "soon"}, NOW) is None


def test_budget_never_exceeds_limit_in_window() -> None:
    budget = RateBudget(3, 300, max_wait=0)
    with time_machine.travel(NOW, tick=False) as clock:
        for _ in range(3):
            budget.acquire("adm")
        with pytest.raises(RateLimited) as caught:
            budget.acquire("adm")
        assert caught.value.retry_at == NOW + timedelta(seconds=300)
        budget.acquire("other-adm")  # budgets are per tenant
        clock.shift(301)
        budget.acquire("adm")


def test_budget_blocked_by_platform_until_reset() -> None:
    budget = RateBudget(100, 300, max_wait=0)
    with time_machine.travel(NOW, tick=False) as clock:
        budget.block_until("adm", NOW + timedelta(seconds=60))
        with pytest.raises(RateLimited):
            budget.acquire("adm")
        clock.shift(61)
        budget.acquire("adm")


def test_error_description_never_echoes_field_values() -> None:
    response = requests.Response()
    response.status_code = 422
    response._content = b'{"error": {"note": ["Jan Jansen, Dorpsstraat 1"]}}'
    assert describe_error(response) == "HTTP 422: invalid fields: note"


def test_odata_errors_are_named_without_their_message():
    response = requests.Response()
    response.status_code = 400
    response._content = (b'{"error": {"code": "", "message": {"lang": "", '
                         b'"value": "Invalid value: Jan Jansen"}}}')
    assert describe_error(response) == "HTTP 400: platform error"


def test_waiting_until_the_budgets_retry_at_is_always_enough():
    """retry_at is never rounded to before the moment the window frees (a virtual clock that
    jumps exactly there must find room, or a sync would be refused again forever)."""
    for start in (1795796941.2204914, 1700000000.0000004, 1795796941.9999996):
        now = {"t": start}
        budget = RateBudget(3, 300, max_wait=0, clock=lambda now=now: now["t"])
        for step in range(3):
            now["t"] = start + step * 0.1234567
            budget.acquire("adm")
        try:
            budget.acquire("adm")
        except RateLimited as exc:
            now["t"] = exc.retry_at.timestamp()
        else:
            raise AssertionError("the fourth call must wait")
        budget.acquire("adm")  # room at retry_at, not a hair later
