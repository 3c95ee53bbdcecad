"""Moneybird's payment settings as choices loaded from the ledger, not typed ids (#16)."""

from __future__ import annotations

import html
import re

from connector.models import Company
from connector.web import payment_choices
from tests.helpers import connect_direct, csrf_token
from tests.test_web import _operator_session


def _options(page: str, name: str) -> dict[str, str]:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, f"{name} is not a choice"
    return {v: html.unescape(label.strip()) for v, label in
            re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_html.group(1))}


def test_payment_settings_offer_the_ledgers_accounts_and_save_the_choice(
        services, moneybird_emulator, monkeypatch):
    monkeypatch.setattr(payment_choices, "_choice_cache", {})
    company_id = connect_direct(services, moneybird_emulator)
    adm = moneybird_emulator.administration_ids()[0]
    accounts = {a["id"]: a["name"] for a in moneybird_emulator._adms[adm]["financial_accounts"]}
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(url).text
    financial = _options(page, "financial_account_id")
    assert {k: v for k, v in financial.items() if k} == accounts
    ledger = _options(page, "ledger_account_id")
    assert any("Kruisposten" in label for label in ledger.values())
    cash = next(i for i, name in accounts.items() if name == "Kas")
    saved = browser.post(f"{url}/payment-settings", data={
        "csrf_token": csrf_token(page), "manual_payment_action": "cash_payment",
        "financial_account_id": cash, "ledger_account_id": ""})
    assert "Opgeslagen." in saved.text
    with services.db.session() as db:
        stored = db.get(Company, company_id).payment_settings
    assert stored["financial_account_id"] == cash
    # an id the ledger does not list is refused, never stored
    refused = browser.post(f"{url}/payment-settings", data={
        "csrf_token": csrf_token(page), "manual_payment_action": "cash_payment",
        "financial_account_id": "999"})
    assert "Opgeslagen." not in refused.text
    assert "Kies een rekening uit de lijst van uw administratie." in refused.text
    with services.db.session() as db:
        assert db.get(Company, company_id).payment_settings["financial_account_id"] == cash


def test_payment_settings_fall_back_to_typed_ids_when_the_ledger_cannot_be_reached(
        services, moneybird_emulator, monkeypatch):
    monkeypatch.setattr(payment_choices, "_choice_cache", {})
    company_id = connect_direct(services, moneybird_emulator)
    moneybird_emulator.inject_error("GET", "financial_accounts", status=503, times=20)
    browser = _operator_session(services)
    page = browser.get(f"{services.settings.public_url}/companies/{company_id}").text
    assert "konden nu niet uit uw boekhoudpakket worden geladen" in page
    assert re.search(r'<input[^>]*name="financial_account_id"', page)
    assert _options(page, "manual_payment_action")  # the booking action stays a choice
