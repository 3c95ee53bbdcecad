"""Connecting SnelStart in a real browser: the key page with its explanation, a wrong key
refused in place, the right key, the administration chosen, the first cases."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from providers.snelstart.emulator import DEMO_SUBSCRIPTION_KEY, SnelStartEmulator
from tests.browser.journeys import (
    choose_administrations,
    company_id_from_url,
    expect_message,
    run_engine,
    section,
    shot,
)
from tests.conftest import EMULATOR_TIMEOUT
from tests.contract.snelstart_schema import validate_exchange


@pytest.fixture
def snelstart_emulator():
    emulator = SnelStartEmulator(seed=5, relations=10, invoices=30)
    problems: list[str] = []
    emulator.exchange_hook = lambda request, response: problems.extend(
        validate_exchange(request, response))
    server = emulator.serve()
    emulator.url = server.url  # type: ignore[attr-defined]
    yield emulator
    server.shutdown()
    assert not problems and not emulator.hook_errors, problems[:5]


@pytest.fixture
def services(make_services, snelstart_emulator, tmp_path):
    services = make_services(
        None, letter_dir=str(tmp_path / "letters"),
        ledger={"snelstart": {"SNELSTART_BASE_URL": snelstart_emulator.url,
                              "SNELSTART_SUBSCRIPTION_KEY": DEMO_SUBSCRIPTION_KEY}})
    services.providers.get("snelstart").timeout = EMULATOR_TIMEOUT
    return services


def test_connect_snelstart_with_a_key_and_see_the_first_cases(page, services,
                                                               snelstart_emulator):
    page.goto("/")
    page.get_by_role("link", name="Koppel SnelStart").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Koppel SnelStart")
    expect(page.get_by_role("heading", name="Waar vindt u de koppelsleutel?")).to_be_visible()
    shot(page, "snelstart-01-key-page")

    key_field = page.get_by_role("textbox", name="Koppelsleutel")
    key_field.fill("dit-is-geen-koppelsleutel")
    page.get_by_role("button", name="Koppelen").click()
    expect_message(page, "SnelStart accepteert deze sleutel niet.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Koppel SnelStart")  # in place
    shot(page, "snelstart-02-wrong-key")

    page.get_by_role("textbox", name="Koppelsleutel").fill(snelstart_emulator.key_for())
    page.get_by_role("button", name="Koppelen").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Welke .* wilt u koppelen\?$"))
           ).to_be_visible()
    choose_administrations(page, [snelstart_emulator.adm()["name"]])
    company_id = company_id_from_url(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(snelstart_emulator.adm()["name"])
    expect_message(page, "gekoppeld")
    expect(section(page, "Koppeling")).to_contain_text("actief")

    result = run_engine(services, company_id)  # what the worker does: sync, engine, write-back
    assert result.opened > 0, result
    page.reload()
    overdue = page.locator("#overdue")
    numbers = {inv["factuurnummer"] for inv in snelstart_emulator.adm()["invoices"].values()}
    first = overdue.locator("tbody tr").first.inner_text()
    assert any(number in first for number in numbers), first
    expect(section(page, "Pre-incasso")).to_contain_text(re.compile(r"[1-9]\d* lopend"))
    shot(page, "snelstart-03-first-cases")
