"""Token handling with a frozen clock: refresh on expiry, rotation persisted, dead grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests
import time_machine
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from connector.models import Grant, Operator
from connector.sync import sync_company
from tests.helpers import connect_direct, csrf_token

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _grant(services) -> Grant:
    with services.db.session() as db:
        return db.scalars(select(Grant).where(Grant.status != "revoked")).one()


def test_refresh_on_expiry_persists_the_rotated_refresh_token(
    make_services, make_moneybird_emulator
):
    emulator = make_moneybird_emulator(token_ttl=3600, rotate_refresh_tokens=True)
    services = make_services(emulator)
    with time_machine.travel(START, tick=False) as clock:
        company_id = connect_direct(services, emulator, expires_in=3600)
        first = _grant(services)
        assert sync_company(services, company_id).outcome == "ok"
        assert _grant(services).access_token_enc == first.access_token_enc  # no needless refresh

        clock.shift(timedelta(seconds=3600 - 30))  # inside the refresh margin
        assert sync_company(services, company_id).outcome == "ok"
        second = _grant(services)
        box = services.box
        assert box.decrypt(second.refresh_token_enc) != box.decrypt(first.refresh_token_enc)
        assert box.decrypt(second.access_token_enc) != box.decrypt(first.access_token_enc)
        assert second.expires_at == START + timedelta(seconds=3600 - 30 + 3600)

        # The persisted (rotated) refresh token is the one that works next time.
        clock.shift(timedelta(seconds=3600))
        assert sync_company(services, company_id).outcome == "ok"
        assert _grant(services).status == "active"


def test_refresh_after_401_when_the_platform_gave_no_expiry(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    before = _grant(services).access_token_enc
    moneybird_emulator.expire_access_tokens()

    assert sync_company(services, company_id).outcome == "ok"
    assert _grant(services).access_token_enc != before


def test_dead_grant_turns_connection_to_reconnect_needed(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    moneybird_emulator.revoke_tokens()

    result = sync_company(services, company_id)

    assert result.outcome == "reconnect_needed"
    assert _grant(services).status == "reconnect_needed"
    # A later sync does not hammer the platform with a dead token.
    moneybird_emulator.reset_calls()
    assert sync_company(services, company_id).outcome == "skipped"
    assert moneybird_emulator.count_calls() == 0
    # ... and the settings page tells the creditor.
    with services.db.session() as db:
        db.add(Operator(email="op@partner.example", password_hash=generate_password_hash("x" * 12)))
    s = requests.Session()
    app_url = services.settings.public_url
    login = s.get(f"{app_url}/login")
    s.post(f"{app_url}/login", data={"csrf_token": csrf_token(login.text),
                                     "email": "op@partner.example", "password": "x" * 12})
    page = s.get(f"{app_url}/companies/{company_id}")
    assert page.status_code == 200
    assert "opnieuw koppelen nodig" in page.text
    assert "Opnieuw koppelen" in page.text
