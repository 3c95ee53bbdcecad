"""Payments first, with real `connector worker` processes on PostgreSQL against the emulator.

A company goes live with a 300-case backlog at Moneybird's own limit, scaled in time only
(150 calls per 5 s instead of per 5 minutes; the emulator enforces it, nothing lifts it). While
the backlog is sent, the invoice of the step sent last is paid; the emulator's webhook reaches
the app and the case must close within 5 s, nothing stale may reach the ledger after that, and
the backlog still finishes at the pace the limit allows (the scenario is bench.payments_first,
which also reports these numbers next to their floor).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench.payments_first import OUR_LIMIT, PLATFORM_LIMIT, WINDOW, GoLive
from connector.models import Case, Delivery, DeliveryCase, Invoice
from connector.services import Services
from tests.conftest import PG_URL
from tests.test_worker_processes import pg  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def go_live(pg, make_moneybird_emulator, tmp_path):  # noqa: F811
    emulator = make_moneybird_emulator(administrations=1, contacts=150, invoices=0,
                                       rate_limit=PLATFORM_LIMIT, rate_window=WINDOW)
    scenario = GoLive(pg, emulator, tmp_path)
    yield scenario
    scenario.stop()


def _sent_for(services: Services, invoice_id: str) -> list[Delivery]:
    with services.db.session() as db:
        return list(db.scalars(select(Delivery).join(DeliveryCase).join(Case).where(
            Case.invoice_id == invoice_id, Delivery.state == "sent")))


@pytest.mark.serial  # a backlog at the platform's limit with a payment deadline: alone
def test_a_payment_closes_its_case_within_seconds_while_300_cases_go_live(go_live):
    m = go_live.run(workers=2, cases=300)
    emulator, adm, external_id = go_live.emulator, go_live.adm, m["external_id"]
    print(f"\n{m}")
    assert m["backlog_left_at_payment"] >= 60, "the backlog must still be going"
    assert m["close_seconds"] <= 5

    # Nothing went out to the debtor about the paid invoice after the payment.
    assert all(d.sent_at < m["paid_at"] for d in _sent_for(go_live.services, m["invoice_id"]))
    # From the moment the connector knew (the case closed): no pause and one note, the closing
    # note. (A write already on the wire in the second between the payment and the webhook's
    # sync may still land; a pause that did is lifted again.)
    after = [c["path"].rsplit("/", 1)[-1] for c in emulator.calls
             if c["at"] > m["closed_at"] and external_id in c["path"] and c["method"] != "GET"]
    notes = [n["note"] for n in emulator.notes(adm, external_id)]
    assert not [w for w in after if "pause" in w], after
    assert sum("notes" in w for w in after) == 1, (after, notes)
    closing = [n for n in notes if "Pre-incasso beëindigd: factuur betaald" in n]
    assert len(closing) == 1
    assert not [n for n in notes[notes.index(closing[0]) + 1:] if "; openstaand" in n], notes
    assert emulator.invoice(adm, external_id)["paused"] is False

    # At the limit, never over it: the emulator refused nothing, no window over its count,
    # and the backlog completed. How close to its floor (calls ÷ our limit × window) it came is
    # a bench row (make bench); here, on a machine that may be busy, only a backlog left far
    # behind the limit (a pacing fault, not a slow CPU) fails.
    assert m["refused"] == 0
    assert m["busiest"] <= OUR_LIMIT < PLATFORM_LIMIT
    assert m["seconds"] <= 4 * m["floor"] + 120
    with go_live.services.db.session() as db:
        open_invoices = db.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.company_id == go_live.company_id, Invoice.status == "open"))
    assert open_invoices == 299
