"""Under the Content-Security-Policy (no inline script) a dangerous form still asks first."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from connector.models import Connection
from tests.browser.journeys import create_operator, sign_in_operator
from tests.helpers import connect_direct

EMAIL, PASSWORD = "op@partner.example", "a-long-enough-password"


def test_disconnect_asks_for_confirmation_and_no_csp_violation(page, services,
                                                               moneybird_emulator, live_server):
    company_id = connect_direct(services, moneybird_emulator)
    create_operator(live_server.app, EMAIL, PASSWORD)
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    sign_in_operator(page, EMAIL, PASSWORD)
    page.goto(f"/companies/{company_id}")
    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Ontkoppelen").click()
    expect(page.get_by_role("heading", name="Koppeling")).to_be_visible()
    assert questions and questions[0].startswith("Ontkoppelen?")
    with services.db.session() as db:
        assert db.scalars(select(Connection)).one().disconnected_at is None  # dismissed: kept

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Ontkoppelen").click()
    page.wait_for_load_state()

    def disconnected() -> bool:
        with services.db.session() as db:
            return db.scalars(select(Connection)).one().disconnected_at is not None

    from tests.helpers import wait_until

    wait_until(disconnected, timeout=30)
    assert violations == []
