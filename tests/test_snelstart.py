"""SnelStart: the key, the polled sync, write-back once, limits; provider against its emulator.

Every exchange is checked against our schema (tests/fixtures_snelstart.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from providers.base import (
    DebtorKind,
    DocumentLedger,
    InvoiceStatus,
    KnownMappings,
    LedgerDocument,
    RateLimited,
    ReconnectRequired,
    SyncCursor,
    Transient,
)
from providers.snelstart import documents, mapping
from providers.snelstart.emulator import SnelStartEmulator
from providers.snelstart.odata import Stamp
from providers.snelstart.provider import CAPABILITIES as SNELSTART_CAPABILITIES
from tests.snelstart_world import SnelStartWorld, finish, serve

pytest_plugins = ["tests.fixtures_snelstart"]


@dataclass
class Mirror:
    """What the connector keeps, as the sync applies pages (open invoices and their debtors)."""

    invoices: dict[str, str] = field(default_factory=dict)
    debtors: dict[str, str] = field(default_factory=dict)
    records: dict[str, object] = field(default_factory=dict)
    cursor: str | None = None
    closed: dict[str, InvoiceStatus] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def sync(self, ledger, limit: int | None = None) -> int:
        known = KnownMappings(dict(self.invoices), dict(self.debtors))
        pages = 0
        for page in ledger.changed_invoices(SyncCursor(self.cursor, known)):
            for debtor in page.debtors:
                self.debtors[debtor.id] = debtor.version
                self.records[debtor.id] = debtor
            for invoice in page.invoices:
                if invoice.status.closed:
                    self.invoices.pop(invoice.id, None)
                    self.closed[invoice.id] = invoice.status
                else:
                    self.invoices[invoice.id] = invoice.version
                    self.records[invoice.id] = invoice
            for gone in page.deleted:
                self.invoices.pop(gone, None)
                self.deleted.append(gone)
            self.cursor = page.cursor
            pages += 1
            if limit is not None and pages >= limit:
                break
        return pages


def open_in_emulator(emu: SnelStartEmulator) -> set[str]:
    return set(emu.invoice_ids(open_only=True))


# -- the key ------------------------------------------------------------------------------


def test_key_trades_for_a_token_and_is_the_refresh_token(snelstart: SnelStartWorld) -> None:
    key = snelstart.emulator.key_for()
    tokens = snelstart.provider.exchange_key(f"  {key[:20]}\n{key[20:]} ")  # pasted with breaks
    assert tokens.access_token and tokens.expires_in == 3600
    assert tokens.refresh_token == key
    again = snelstart.provider.refresh(tokens.refresh_token)
    assert again.access_token != tokens.access_token and again.refresh_token == key


def test_a_refused_key_means_reconnect(snelstart: SnelStartWorld) -> None:
    with pytest.raises(ReconnectRequired):
        snelstart.provider.exchange_key("not-a-koppelsleutel")
    key = snelstart.emulator.key_for()
    ledger = snelstart.ledger(key)
    ledger.invoice(snelstart.emulator.invoice_ids()[0])
    snelstart.emulator.revoke_key(key)  # withdrawn in SnelStart: token and key stop working
    with pytest.raises(ReconnectRequired):
        ledger.invoice(snelstart.emulator.invoice_ids()[0])


def test_token_is_cached_and_requested_again_after_a_401(snelstart: SnelStartWorld) -> None:
    tokens = snelstart.provider.tokens_for(snelstart.emulator.key_for())
    ledger = snelstart.provider.ledger(snelstart.adm_id, tokens)
    some = snelstart.emulator.invoice_ids()[:3]
    for invoice_id in some:
        ledger.invoice(invoice_id)
    assert tokens.requests == 1
    snelstart.emulator.expire_tokens()
    assert ledger.invoice(some[0]).id == some[0]
    assert tokens.requests == 2


def test_tenant_is_the_administration_the_key_opens(snelstart: SnelStartWorld) -> None:
    tokens = snelstart.provider.tokens_for(snelstart.emulator.key_for())
    [tenant] = snelstart.provider.list_tenants(tokens)
    assert tenant.id == snelstart.adm_id and tenant.name == "Bakkerij De Zon"
    info = snelstart.provider.info
    assert info.auth_kind == "client-key" and not info.capabilities.webhooks


def test_a_wrong_subscription_key_is_ours_to_fix_not_a_reconnect() -> None:
    world = serve(SnelStartEmulator(seed=2, subscription_key="the-real-one"))
    try:
        with pytest.raises(Transient, match="subscription key"):
            world.ledger().invoice(world.emulator.invoice_ids()[0])
    finally:
        finish(world)


def test_a_missing_permission_names_the_scope(snelstart: SnelStartWorld) -> None:
    snelstart.emulator.scopes_missing.add("orders:read")
    with pytest.raises(ReconnectRequired) as caught:
        list(snelstart.ledger().changed_invoices(SyncCursor()))
    assert caught.value.missing_scope == "orders:read"


# -- the sync -----------------------------------------------------------------------------


def test_first_sync_brings_open_invoices_with_their_debtors(snelstart: SnelStartWorld) -> None:
    emu, mirror = snelstart.emulator, Mirror()
    ledger = snelstart.ledger()
    mirror.sync(ledger)
    assert set(mirror.invoices) == open_in_emulator(emu)
    for invoice_id in mirror.invoices:
        raw = emu.raw_invoice(invoice_id)
        record = mirror.records[invoice_id]
        assert record.open_amount == raw["openstaandSaldo"] and record.debtor_id in mirror.debtors
        assert record.due_date == raw["vervalDatum"]
    assert ledger.api_calls == 2  # one page of relations, one of invoices
    suppliers = {r for r, v in emu.adm()["relations"].items() if "Klant" not in v["relatiesoort"]}
    assert not suppliers & set(mirror.debtors)


def test_unchanged_sync_costs_one_page_per_feed_and_brings_nothing(
        snelstart: SnelStartWorld) -> None:
    mirror = Mirror()
    mirror.sync(snelstart.ledger())
    before = dict(mirror.invoices)
    ledger = snelstart.ledger()
    assert mirror.sync(ledger) == 0
    assert ledger.api_calls == 2 and mirror.invoices == before
    queries = [c["query"] for c in snelstart.emulator.calls[-2:]]
    assert all("modifiedOn+ge+" in q for q in queries)


def test_payment_closes_the_invoice_at_the_next_poll(snelstart: SnelStartWorld) -> None:
    emu, mirror = snelstart.emulator, Mirror()
    mirror.sync(snelstart.ledger())
    paid, partly = sorted(mirror.invoices)[:2]
    emu.settle(paid)
    emu.settle(partly, Decimal("10.00"))
    mirror.sync(snelstart.ledger())
    assert mirror.closed == {paid: InvoiceStatus.PAID}
    assert mirror.records[partly].open_amount == emu.raw_invoice(partly)["openstaandSaldo"]


def test_a_payment_that_leaves_modified_on_alone_is_found_by_the_sweep() -> None:
    emu = SnelStartEmulator(seed=3, payment_moves_modified_on=False)
    world = serve(emu, sweep_every=timedelta(hours=6))
    try:
        mirror = Mirror()
        mirror.sync(world.ledger())
        target = sorted(mirror.invoices)[0]
        emu.create_invoice(emu.customer_ids()[0], Decimal("75.00"))  # moves the watermark on
        mirror.sync(world.ledger())
        emu.settle(target)  # long unchanged: out of the feed's overlap
        mirror.sync(world.ledger())
        assert target in mirror.invoices  # the feed cannot see it ...
        world.provider.sweep_every = timedelta(0)
        mirror.sync(world.ledger())
        assert mirror.closed == {target: InvoiceStatus.PAID}  # ... the sweep does
    finally:
        finish(world)


def test_deleted_and_credited_invoices_leave_the_open_set() -> None:
    emu = SnelStartEmulator(seed=4)
    world = serve(emu, sweep_every=timedelta(0))
    try:
        mirror = Mirror()
        mirror.sync(world.ledger())
        deleted, credited = sorted(mirror.invoices)[:2]
        emu.delete_invoice(deleted)
        note = emu.credit(credited)
        mirror.sync(world.ledger())
        assert mirror.deleted == [deleted] and credited in mirror.closed
        assert note["id"] not in mirror.invoices  # a credit note is never chased
        assert world.ledger().invoice(deleted).status is InvoiceStatus.DELETED
    finally:
        finish(world)


def test_many_invoices_page_by_500_and_a_cut_sync_resumes() -> None:
    emu = SnelStartEmulator(seed=5, relations=40, invoices=1700)
    world = serve(emu)
    try:
        mirror = Mirror()
        emu.inject_error("GET", "/v2/verkoopfacturen", status=503, times=3)  # retries used up
        with pytest.raises(Transient):
            mirror.sync(world.ledger())
        assert mirror.cursor is None  # nothing handed out before the failure
        assert mirror.sync(world.ledger(), limit=2) == 2  # two pages, then the run is cut
        first_two = set(mirror.invoices)
        emu.reset_calls()
        mirror.sync(world.ledger())
        skips = [c["query"] for c in emu.calls if c["path"] == "/v2/verkoopfacturen"]
        # resumed after the second page: $skip=1000 (500) and $skip=1500 (the short page)
        assert len(skips) == 2 and "%24skip=1000" in skips[0]
        assert first_two < set(mirror.invoices) == open_in_emulator(emu)
    finally:
        finish(world)


def test_debtor_details_follow_the_relation(snelstart: SnelStartWorld) -> None:
    emu, mirror = snelstart.emulator, Mirror()
    mirror.sync(snelstart.ledger())
    relation_id = next(iter(mirror.debtors))
    emu.update_relation(relation_id, aanmaningsoort="Consument", kvkNummer="12345678",
                        email="algemeen@example.nl",
                        aanmaningEmailVersturen={"shouldSend": True,
                                                 "email": "aanmaning@example.nl",
                                                 "ccEmail": None})
    mirror.sync(snelstart.ledger())
    debtor = mirror.records[relation_id]
    assert debtor.kind is DebtorKind.CONSUMER and debtor.email == "aanmaning@example.nl"


def test_an_old_customer_with_a_new_invoice_is_fetched_once(snelstart: SnelStartWorld) -> None:
    emu, mirror = snelstart.emulator, Mirror()
    mirror.sync(snelstart.ledger())
    busy, quiet = [r for r in emu.customer_ids() if r not in mirror.debtors][:2]
    emu.update_relation(busy, telefoon="020-1234567")  # the relations' watermark moves on
    mirror.sync(snelstart.ledger())
    invoice = emu.create_invoice(quiet, Decimal("321.00"))
    emu.reset_calls()
    mirror.sync(snelstart.ledger())
    assert mirror.records[invoice["id"]].debtor_id == quiet and quiet in mirror.debtors
    assert emu.count_calls("GET", f"/relaties/{quiet}") == 1


def test_timestamps_with_an_offset_work_as_well() -> None:
    emu = SnelStartEmulator(seed=6, offset_stamps=True)
    world = serve(emu)
    try:
        mirror = Mirror()
        mirror.sync(world.ledger())
        target = sorted(mirror.invoices)[0]
        emu.settle(target)
        mirror.sync(world.ledger())
        assert mirror.closed == {target: InvoiceStatus.PAID}
        assert "%2B01%3A00" in emu.calls[-1]["query"] or "%2B02%3A00" in emu.calls[-1]["query"]
    finally:
        finish(world)


# -- write-back ---------------------------------------------------------------------------


def test_a_note_is_a_document_on_the_sales_booking_once_after_a_lost_answer(
        snelstart: SnelStartWorld) -> None:
    emu = snelstart.emulator
    invoice_id = sorted(open_in_emulator(emu))[0]
    booking = emu.raw_invoice(invoice_id)["verkoopBoeking"]
    emu.inject_lost_answer("POST", "/documenten/Verkoopboekingen")
    ledger = snelstart.ledger()
    text = "Profitletter per post en e-mail verstuurd."
    ref = ledger.add_note(invoice_id, text, "PI-AB12CD34EF56")
    again = ledger.add_note(invoice_id, text, "PI-AB12CD34EF56", maybe_done=True)
    [doc] = emu.documents(booking=booking)
    assert ref == again == doc["id"] and "PI-AB12CD34EF56" in doc["fileName"]
    assert doc["content"].startswith(b"%PDF-")


def test_a_steps_own_pdf_is_the_document_once_after_a_lost_answer(
        snelstart: SnelStartWorld) -> None:
    emu = snelstart.emulator
    invoice_id = sorted(open_in_emulator(emu))[0]
    booking = emu.raw_invoice(invoice_id)["verkoopBoeking"]
    letter = LedgerDocument(b"%PDF-1.7\n% the Profitletter as printed\n%%EOF\n", "Profitletter")
    assert SNELSTART_CAPABILITIES.invoice_documents
    ledger = snelstart.ledger()
    assert isinstance(ledger, DocumentLedger)
    emu.inject_lost_answer("POST", "/documenten/Verkoopboekingen")
    text = "Profitletter per post en e-mail verstuurd."
    ref = ledger.add_note_with_document(invoice_id, text, "PI-LETTER000001", letter)
    again = ledger.add_note_with_document(invoice_id, text, "PI-LETTER000001", letter,
                                          maybe_done=True)
    [doc] = emu.documents(booking=booking)
    assert ref == again == doc["id"] and doc["fileName"] == "Profitletter PI-LETTER000001.pdf"
    assert doc["content"] == letter.content and emu.count_calls("POST", "/documenten/") == 1


def test_a_pdf_too_large_for_snelstart_goes_as_the_notes_record(
        snelstart: SnelStartWorld) -> None:
    emu = snelstart.emulator
    invoice_id = sorted(open_in_emulator(emu))[0]
    huge = LedgerDocument(b"%PDF-1.7" + b"0" * documents.MAX_BYTES, "Profitletter")
    snelstart.ledger().add_note_with_document(invoice_id, "Profitletter verstuurd.",
                                              "PI-LETTER000002", huge)
    [doc] = emu.documents()
    assert doc["fileName"] == "Pre-incasso PI-LETTER000002.pdf" and doc["content"] != huge.content


def test_payment_with_a_bank_journal_is_booked_once(snelstart: SnelStartWorld) -> None:
    emu = snelstart.emulator
    ledger = snelstart.ledger()
    journals = ledger.payment_setting_choices("bank_journal_id")
    assert [label for _, label in journals] == ["1100 Bank ING"]  # active bank journals only
    invoice_id = sorted(open_in_emulator(emu))[0]
    amount = emu.raw_invoice(invoice_id)["openstaandSaldo"]
    settings = {"bank_journal_id": journals[0][0]}
    emu.inject_lost_answer("POST", "/bankboekingen")
    ref = ledger.register_payment(invoice_id, amount, date(2026, 11, 20), "PI-PAY000000001",
                                  settings)
    again = ledger.register_payment(invoice_id, amount, date(2026, 11, 20), "PI-PAY000000001",
                                    settings, maybe_done=True)
    [booking] = emu.bank_bookings()
    assert ref == again == booking["id"]
    assert emu.raw_invoice(invoice_id)["openstaandSaldo"] == 0


def test_payment_without_a_journal_is_only_a_document(snelstart: SnelStartWorld) -> None:
    emu = snelstart.emulator
    invoice_id = sorted(open_in_emulator(emu))[0]
    open_before = emu.raw_invoice(invoice_id)["openstaandSaldo"]
    snelstart.ledger().register_payment(invoice_id, Decimal("50.00"), date(2026, 11, 20),
                                        "PI-PAY000000002", {})
    assert not emu.bank_bookings() and len(emu.documents()) == 1
    assert emu.raw_invoice(invoice_id)["openstaandSaldo"] == open_before


# -- limits -------------------------------------------------------------------------------


def test_429_honours_retry_after_and_blocks_the_budget() -> None:
    emu = SnelStartEmulator(seed=8, rate_limit=3, rate_window=120)
    world = serve(emu)
    try:
        ledger = world.ledger()
        ids = emu.invoice_ids()
        for invoice_id in ids[:3]:
            ledger.invoice(invoice_id)
        started = datetime.now(UTC)
        with pytest.raises(RateLimited) as caught:
            ledger.invoice(ids[3])
        assert caught.value.retry_at >= started + timedelta(seconds=100)
        calls = emu.count_calls()
        with pytest.raises(RateLimited):  # our own budget waits now: no call goes out
            ledger.invoice(ids[3])
        assert emu.count_calls() == calls
    finally:
        finish(world)


def test_a_spent_call_quota_is_a_wait_not_a_missing_permission(snelstart: SnelStartWorld) -> None:
    snelstart.emulator.inject_error(
        "GET", "/v2/verkoopfacturen", status=403,
        message="Out of call volume quota. Quota will be replenished in 00:05:00.")
    started = datetime.now(UTC)
    with pytest.raises(RateLimited) as caught:
        snelstart.ledger().invoice(snelstart.emulator.invoice_ids()[0])
    assert started + timedelta(minutes=4) < caught.value.retry_at < started + timedelta(minutes=6)


def test_emulator_refuses_top_above_500_and_takes_both_literal_styles(
        snelstart: SnelStartWorld) -> None:
    token = snelstart.provider.exchange_key(snelstart.emulator.key_for()).access_token
    headers = {"Authorization": f"Bearer {token}",
               "Ocp-Apim-Subscription-Key": snelstart.emulator.subscription_key}
    url = f"{snelstart.server.url}/v2/verkoopfacturen"
    assert requests.get(url, params={"$top": 501}, headers=headers, timeout=30).status_code == 400
    counts = []
    for literal in ("2020-01-01T00:00:00.0000000+00:00", "datetime'2020-01-01T00:00:00'",
                    "datetimeoffset'2020-01-01T00:00:00Z'"):
        answer = requests.get(url, params={"$filter": f"modifiedOn gt {literal}"},
                              headers=headers, timeout=30)
        assert answer.status_code == 200
        counts.append(len(answer.json()))
    assert counts == [len(snelstart.emulator.invoice_ids())] * 3
    future = requests.get(url, params={"$filter": "modifiedOn ge 2999-01-01T00:00:00"},
                          headers=headers, timeout=30)
    assert future.json() == []
    snelstart.problems.clear()  # these hand-made calls are not our client's


# -- mapping ------------------------------------------------------------------------------


def test_debtor_kind_falls_back_to_kvk_or_vat() -> None:
    base = {"id": "6f3c0000-0000-4000-8000-000000000001", "naam": "X"}
    assert mapping.debtor_kind({**base, "aanmaningsoort": "Onderneming"}) is DebtorKind.BUSINESS
    assert mapping.debtor_kind({**base, "aanmaningsoort": "Nee", "btwNummer": "NL1B01"}) \
        is DebtorKind.BUSINESS
    assert mapping.debtor_kind({**base, "aanmaningsoort": "Nee"}) is DebtorKind.CONSUMER
    assert mapping.debtor({**base, "email": "a@x.nl",
                           "factuurEmailVersturen": {"email": "f@x.nl"}}).email == "f@x.nl"


def test_stamps_keep_the_servers_form() -> None:
    bare = Stamp.parse("2026-11-27T10:15:30.1234567")
    aware = Stamp.parse("2026-11-27T10:15:30.123+01:00")
    assert bare is not None and aware is not None
    assert bare.literal() == "2026-11-27T10:15:30.1234560"
    assert aware.literal() == "2026-11-27T10:15:30.1230000+01:00"
    assert bare.utc == datetime(2026, 11, 27, 9, 15, 30, 123456, tzinfo=UTC)


def test_a_cursor_we_cannot_read_starts_over_instead_of_failing(snelstart: SnelStartWorld) -> None:
    for value in ("not json", '{"inv": 12, "swept": "gisteren", "pass": {"skip": "x"}}'):
        mirror = Mirror(cursor=value)
        mirror.sync(snelstart.ledger())
        assert set(mirror.invoices) == open_in_emulator(snelstart.emulator)


def test_a_change_committed_just_before_the_watermark_is_still_seen(
        snelstart: SnelStartWorld) -> None:
    emu, mirror = snelstart.emulator, Mirror()
    newest = emu.create_invoice(emu.customer_ids()[0], Decimal("10.00"))
    mirror.sync(snelstart.ledger())
    # Committed after our poll, stamped five minutes before the newest record we saw.
    late = emu.create_invoice(emu.customer_ids()[1], Decimal("20.00"))
    late["modifiedOn"] = newest["modifiedOn"] - timedelta(minutes=5)
    mirror.sync(snelstart.ledger())
    assert late["id"] in mirror.invoices
