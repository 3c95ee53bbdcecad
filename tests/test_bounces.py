"""Bounces end to end: VERP out through loopback SMTP, real DSNs in through the bounce listener."""

from __future__ import annotations

import smtplib
import socket
from datetime import date, timedelta

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from connector.bounces import BounceListener, import_path, parse_listen, process_bounce
from connector.channels.dsn import BounceKind, NotABounce, parse_dsn, verp_delivery_id
from connector.channels.print_queue import letters_waiting
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.collection.bounces import fallback_id
from connector.collection.posting import letter_store
from connector.models import Case, Delivery, Event
from tests.test_engine import World, at

BOUNCES = "bounces@partner.example"
DEBTOR = "klant@voorbeeld.example"


def dsn(
    envelope_to: str = BOUNCES,
    message_id: str | None = None,
    *,
    action: str = "failed",
    status: str = "5.1.1",
    to_header: str | None = None,
) -> bytes:
    """A DSN as Postfix writes it (multipart/report, delivery-status, returned headers)."""
    returned = (f"Message-ID: {message_id}\r\n" if message_id else "") + \
        f"From: Bakkerij <herinneringen@partner.example>\r\nTo: <{DEBTOR}>\r\n" \
        "Subject: Laatste herinnering\r\n"
    return (
        "From: MAILER-DAEMON@mx.voorbeeld.example (Mail Delivery System)\r\n"
        f"To: {to_header or envelope_to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="XYZ"\r\n'
        "\r\n--XYZ\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered to {DEBTOR}.\r\n"
        "\r\n--XYZ\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.voorbeeld.example\r\nArrival-Date: Mon, 2 Mar 2026 10:00:00 +0100"
        "\r\n\r\n"
        f"Final-Recipient: rfc822; {DEBTOR}\r\nOriginal-Recipient: rfc822;{DEBTOR}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{DEBTOR}>: Recipient address rejected\r\n"
        "\r\n--XYZ\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"{returned}"
        "\r\n--XYZ--\r\n"
    ).encode()


def deliver(listener: BounceListener, rcpt: str, data: bytes) -> None:
    with smtplib.SMTP(listener.host, listener.port, timeout=10) as smtp:
        smtp.sendmail("<>", [rcpt], data)


@pytest.fixture
def bounce_world(make_services, make_moneybird_emulator, tmp_path):
    mail = CaptureSmtpServer().start()
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    services = make_services(emulator, smtp_url=mail.url, letter_dir=str(tmp_path / "letters"),
                             bounce_address=BOUNCES)
    world = World(services, emulator)
    world.emulator.update_contact(world.adm, world.consumer, email=DEBTOR,
                                send_invoices_to_email=DEBTOR, phone="06 12345678")
    listener = BounceListener(services).start()
    yield world, mail, listener, letter_store(services)
    listener.stop()
    mail.stop()


def _stamp_sent(world: World, mail: CaptureSmtpServer) -> tuple[str, str]:
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    assert len(mail.messages) == 1
    return inv, mail.envelopes[0].mail_from


def _deliveries(world: World) -> list[Delivery]:
    with world.services.db.session() as db:
        rows = list(db.scalars(select(Delivery).order_by(Delivery.created_at)))
        for row in rows:
            _ = [link.case_id for link in row.cases]
        return rows


def _events(world: World, kind: str) -> list[Event]:
    with world.services.db.session() as db:
        return list(db.scalars(select(Event).where(Event.kind == kind)))


def test_hard_bounce_over_smtp_sends_the_stamp_by_post_once(bounce_world):
    world, mail, listener, letters = bounce_world
    inv, envelope_from = _stamp_sent(world, mail)
    stamp = _deliveries(world)[0]
    assert envelope_from == f"bounces+{stamp.id}@partner.example"  # VERP
    assert mail.messages[0]["Message-ID"] == stamp.channel_ref
    next_step = world.case(inv).next_step

    with time_machine.travel(at(date(2026, 3, 2), 10), tick=True):
        deliver(listener, envelope_from, dsn(envelope_from, stamp.channel_ref))
        deliver(listener, envelope_from, dsn(envelope_from, stamp.channel_ref))  # again
    assert list(listener.outcomes) == ["fallback", "duplicate"]
    rows = _deliveries(world)
    assert len(rows) == 2
    original, letter = rows
    assert original.bounced_at is not None and original.state == "sent"
    assert letter.id == fallback_id(original.id)
    assert (letter.channel, letter.template, letter.state, letter.step) == (
        "letter", "stamp", "planned", original.step)
    bounced = _events(world, "step.bounced")
    assert len(bounced) == 1 and DEBTOR not in bounced[0].message

    world.day(date(2026, 3, 2), hour=11)  # the next engine run: the letter goes out today
    letter = next(d for d in _deliveries(world) if d.id == letter.id)
    assert letter.state == "sent" and letter.channel_ref == f"letter:{letter.id}"
    assert [q.delivery_id for q in letters_waiting(letters, date(2026, 3, 2))] == [letter.id]
    assert len(mail.messages) == 1  # no e-mail copy to the address that bounced
    assert world.case(inv).next_step == next_step  # the step counted once
    with time_machine.travel(at(date(2026, 3, 3), 10), tick=True):
        deliver(listener, envelope_from, dsn(envelope_from, stamp.channel_ref))
    world.day(date(2026, 3, 3))
    notes = world.notes(inv)
    assert sum("kwam niet aan" in n for n in notes) == 1, notes
    assert sum(d.template == "stamp" for d in _deliveries(world)) == 2
    assert len(letters.entries()) == 1

    # The policy goes on as before: the Profitletter follows the stamp a week later.
    for offset in range(4, 12):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    channels = [(d.channel, d.template) for d in world.sent()]
    assert channels[:3] == [("stamp", "stamp"), ("letter", "stamp"),
                            ("letter", "profitletter_consumer")]
    assert sum(1 for c in channels if c[1] == "stamp") == 2


def test_soft_bounce_is_only_recorded(bounce_world):
    world, mail, listener, _ = bounce_world
    _inv, envelope_from = _stamp_sent(world, mail)
    deliver(listener, envelope_from, dsn(envelope_from, action="delayed", status="4.4.7"))
    assert list(listener.outcomes) == ["recorded"]
    assert len(_deliveries(world)) == 1 and _deliveries(world)[0].bounced_at is None
    assert len(_events(world, "step.bounce_delayed")) == 1


def test_bounce_of_a_letters_email_copy_sends_no_second_letter(bounce_world):
    world, mail, listener, letters = bounce_world
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))  # stamp
    world.day(date(2026, 3, 9))  # Profitletter by post, with an e-mail copy
    letter = next(d for d in _deliveries(world) if d.channel == "letter")
    copy = next(e for e in mail.envelopes if letter.id in e.mail_from)
    deliver(listener, copy.mail_from, dsn(copy.mail_from))
    assert list(listener.outcomes) == ["recorded"]
    assert len(_deliveries(world)) == 2 and len(letters.entries()) == 1
    assert _deliveries(world)[1].bounced_at is not None
    assert not any("kwam niet aan" in n for n in world.notes(inv))
    # A stamp bounce reported only now (the Profitletter already went): no late stamp letter.
    stamp = next(e for e in mail.envelopes if e.mail_from != copy.mail_from)
    deliver(listener, stamp.mail_from, dsn(stamp.mail_from))
    assert list(listener.outcomes) == ["recorded", "recorded"]
    assert len(_deliveries(world)) == 2 and len(letters.entries()) == 1


def test_garbage_is_ignored_and_the_listener_lives_on(bounce_world):
    world, mail, listener, _ = bounce_world
    _inv, envelope_from = _stamp_sent(world, mail)
    deliver(listener, BOUNCES, b"Subject: hello\r\n\r\nnot a bounce at all\r\n")
    deliver(listener, BOUNCES, b"\x00\xff\xfe garbage \r\n\r\n\x80\x81")
    deliver(listener, BOUNCES, dsn(BOUNCES))  # a DSN that names no delivery of ours
    deliver(listener, "bounces+" + "0" * 32 + "@partner.example",
            dsn("bounces+" + "0" * 32 + "@partner.example"))  # an unknown delivery
    with socket.create_connection((listener.host, listener.port), timeout=5) as raw:
        raw.recv(1024)
        raw.sendall(b"THIS IS NOT SMTP\r\n")
        assert raw.recv(1024).startswith(b"500")
    assert list(listener.outcomes) == ["ignored", "ignored", "ignored", "unknown"]
    with time_machine.travel(at(date(2026, 3, 2), 10), tick=True):
        deliver(listener, envelope_from, dsn(envelope_from))
    assert listener.outcomes[-1] == "fallback"


def test_cli_import_finds_the_delivery_by_message_id(bounce_world, tmp_path, monkeypatch):
    world, mail, _listener, _ = bounce_world
    _stamp_sent(world, mail)
    stamp = _deliveries(world)[0]
    path = tmp_path / "bounce.eml"
    # No VERP anywhere (e.g. forwarded by hand): the returned Message-ID finds the delivery.
    path.write_bytes(dsn(BOUNCES, stamp.channel_ref))
    with time_machine.travel(at(date(2026, 3, 2), 12), tick=True):
        assert import_path(world.services, path) == {"fallback": 1}
        assert import_path(world.services, path) == {"duplicate": 1}
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes(dsn(BOUNCES, stamp.channel_ref))
    (maildir / "new" / "2.eml").write_bytes(b"Subject: out of office\r\n\r\nweg\r\n")
    assert import_path(world.services, maildir) == {"duplicate": 1, "ignored": 1}

    from connector import cli

    monkeypatch.setattr("connector.config.load_settings", lambda: world.services.settings)
    result = CliRunner().invoke(cli.main, ["bounces", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 duplicate" in result.output


def test_bounce_after_the_case_closed_plans_no_letter(bounce_world):
    world, mail, listener, _ = bounce_world
    inv, envelope_from = _stamp_sent(world, mail)
    world.emulator.mark_paid(world.adm, inv)
    world.day(date(2026, 3, 3))
    with world.services.db.session() as db:
        assert db.scalars(select(Case)).one().state == "closed"
    deliver(listener, envelope_from, dsn(envelope_from))
    assert list(listener.outcomes) == ["recorded"] and len(_deliveries(world)) == 1


def test_dsn_parsing_and_verp() -> None:
    delivery_id = "ab" * 16
    report = parse_dsn(dsn(f"bounces+{delivery_id}@partner.example", "<x@partner.example>"),
                       bounce_address=BOUNCES)
    assert report.kind == BounceKind.HARD and report.status == "5.1.1"
    assert report.delivery_ids == (delivery_id,)
    assert report.message_ids == ("<x@partner.example>",)
    assert DEBTOR not in repr(report)
    soft = parse_dsn(dsn(BOUNCES, action="failed", status="4.2.2"))
    assert soft.kind == BounceKind.SOFT and soft.delivery_ids == ()
    with pytest.raises(NotABounce):
        parse_dsn(dsn(BOUNCES, action="delivered", status="2.0.0"))
    with pytest.raises(NotABounce):
        parse_dsn(b"\xff\xfe\x00")
    assert verp_delivery_id(f"<bounces+{delivery_id}@partner.example>", "bounces") == delivery_id
    assert verp_delivery_id(f"other+{delivery_id}@partner.example", "bounces") is None
    assert verp_delivery_id("bounces+notanid@partner.example") is None
    assert parse_listen("127.0.0.1:2525") == ("127.0.0.1", 2525)
    assert parse_listen("[::1]:25") == ("::1", 25)
    with pytest.raises(ValueError):
        parse_listen("2525")


def test_process_bounce_without_settings_is_harmless(services) -> None:
    assert process_bounce(services, b"garbage") == "ignored"


def test_envelope_sender_is_verp_only_with_a_bounce_address() -> None:
    from connector.channels.email import EmailChannel
    from tests.test_channels import message

    with CaptureSmtpServer() as smtp:
        plain = EmailChannel(smtp.url, "herinneringen@partner.example", timeout=5)
        verp = EmailChannel(smtp.url, "herinneringen@partner.example", timeout=5,
                            bounce_address=BOUNCES)
        msg = message(delivery_id="c" * 32)
        plain.send(msg)
        verp.send(msg)
        verp.send_notice("info@bakkerijzoet.example", "Koppeling", "Tekst")
    assert [e.mail_from for e in smtp.envelopes] == [
        "herinneringen@partner.example", f"bounces+{'c' * 32}@partner.example",
        "herinneringen@partner.example"]
    with pytest.raises(ValueError):
        EmailChannel(smtp.url, "herinneringen@partner.example", bounce_address="not an address")


def test_the_worker_runs_the_listener_when_configured(services) -> None:
    from connector.worker import Worker

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services.settings = services.settings.replace(bounce_smtp_listen=f"127.0.0.1:{port}")
    worker = Worker(services)
    worker._start_bounce_listener()
    try:
        assert worker.bounce_listener is not None and worker.bounce_listener.port == port
        deliver(worker.bounce_listener, BOUNCES, b"Subject: hi\r\n\r\nno bounce\r\n")
        assert list(worker.bounce_listener.outcomes) == ["ignored"]
    finally:
        worker.stop()
    assert worker.bounce_listener is None


def test_one_worker_holds_the_bounce_listener_and_another_takes_it_over(services) -> None:
    import time
    from datetime import timedelta

    from connector.worker import Worker

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services.settings = services.settings.replace(bounce_smtp_listen=f"127.0.0.1:{port}")
    ttl = timedelta(seconds=1)
    first, second, third = (Worker(services, f"w{i}", lease_ttl=ttl) for i in (1, 2, 3))
    try:
        first.keep()
        second.keep()
        assert first.bounce_listener is not None and second.bounce_listener is None
        first.stop()  # a clean stop hands the job over at once
        second.keep()
        assert second.bounce_listener is not None and second.bounce_listener.port == port
        deliver(second.bounce_listener, BOUNCES, b"Subject: hi\r\n\r\nno bounce\r\n")
        assert list(second.bounce_listener.outcomes) == ["ignored"]
        # The holder dies without a word (its listener goes with the process): the lease runs
        # out and another worker takes the listener over.
        second.bounce_listener.stop()
        second.bounce_listener = None
        third.keep()
        assert third.bounce_listener is None  # not yet: the lease still runs
        time.sleep(1.5)
        third.keep()
        assert third.bounce_listener is not None and third.bounce_listener.port == port
        second.keep()  # back from the dead: it does not start a second listener
        assert second.bounce_listener is None
    finally:
        for worker in (first, second, third):
            worker.stop()
