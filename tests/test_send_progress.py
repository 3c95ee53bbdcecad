"""Live progress of sending, counted from the deliveries: "x van y … verstuurd" (#16)."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import select

from connector.collection.engine import _send_one, run_company
from connector.models import Company, Connection, Delivery, utcnow
from connector.reports.sending import send_progress
from tests.helpers import oauth_connect
from tests.test_engine import at, world  # noqa: F401  (fixture)

MONDAY = date(2026, 3, 2)


def _progress(world):  # noqa: F811
    with world.services.db.session() as db:
        return send_progress(db, world.company_id, utcnow())


def _planned(world) -> list[str]:  # noqa: F811
    with world.services.db.session() as db:
        return list(db.scalars(select(Delivery.id).where(
            Delivery.company_id == world.company_id, Delivery.state == "planned")))


def test_progress_follows_the_deliveries_as_they_go_out(world):  # noqa: F811
    for contact in (world.consumer, world.business):
        world.invoice(contact, "150.00", date(2026, 2, 15))
    world.day(MONDAY, hour=9)  # preview: the first steps are planned, nothing goes out
    planned = _planned(world)
    assert len(planned) == 2
    url = world.services.settings.public_url
    dashboard = f"{url}/companies/{world.company_id}/dashboard"
    endpoint = f"{url}/companies/{world.company_id}/send-progress"

    with time_machine.travel(at(MONDAY, 10), tick=True):
        creditor, _page = oauth_connect(url, world.emulator.server.url,
                                        administrations=[world.adm])
        progress = _progress(world)
        assert (progress.sent, progress.waiting, progress.running) == (0, 0, False)
        assert 'id="send-progress"' not in creditor.get(dashboard).text  # preview: idle

        world.live()  # going live: both are due today
        answer = creditor.get(endpoint)
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.json() | {"poll_ms": 0} == {
            "sent": 0, "failed": 0, "waiting": 2, "total": 2, "running": True,
            "text": "0 van 2 herinneringen verstuurd", "poll_ms": 0}
        page = creditor.get(dashboard).text
        assert 'id="send-progress"' in page and "0 van 2 herinneringen verstuurd" in page
        assert f'data-progress-url="/companies/{world.company_id}/send-progress"' in page
        assert "/static/progress.js" in page
        company_page = creditor.get(f"{url}/companies/{world.company_id}").text
        assert "0 van 2 herinneringen verstuurd" in company_page

        assert _send_one(world.services, planned[0], utcnow()) == "sent"
        assert creditor.get(endpoint).json()["text"] == "1 van 2 herinneringen verstuurd"

        run_company(world.services, world.company_id)
        done = creditor.get(endpoint).json()
        assert (done["sent"], done["total"], done["running"]) == (2, 2, False)
        assert done["text"] == "2 van 2 herinneringen verstuurd · klaar"
        assert 'id="send-progress"' not in creditor.get(dashboard).text

        # Another company's progress is not this creditor's to see.
        with world.services.db.session() as db:
            other = Company(name="Ander B.V.", provider="moneybird")
            db.add(other)
            db.flush()
            other_id = other.id
        assert creditor.get(f"{url}/companies/{other_id}/send-progress").status_code == 404


def test_outside_the_contact_window_it_says_when_sending_goes_on(world):  # noqa: F811
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.day(MONDAY, hour=9)
    world.live()
    with time_machine.travel(at(MONDAY, 21), tick=True):
        progress = _progress(world)
        assert progress.running and progress.resumes_at is not None
        assert run_company(world.services, world.company_id).sent == 0  # 21:00: nothing goes
        url = world.services.settings.public_url
        creditor, _page = oauth_connect(url, world.emulator.server.url,
                                        administrations=[world.adm])
        answer = creditor.get(f"{url}/companies/{world.company_id}/send-progress").json()
    assert answer["text"] == ("0 van 1 herinnering verstuurd · de rest gaat uit vanaf "
                              "3 mrt 2026 07:00")
    assert answer["poll_ms"] > 4000


def test_a_disconnected_company_shows_nothing_waiting(world):  # noqa: F811
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.day(MONDAY, hour=9)
    world.live()
    with world.services.db.session() as db:
        db.scalars(select(Connection)).one().disconnected_at = utcnow()
    with time_machine.travel(at(MONDAY, 10), tick=True):
        assert not _progress(world).running
