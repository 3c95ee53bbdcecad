"""The delivery channels against real loopback servers: SMTP (aiosmtpd), Twilio (emulator),
and the letter PDFs read back with pypdf."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from connector.channels.base import ChannelRejected, ChannelUncertain, InvoiceLine, OutgoingMessage
from connector.channels.documents import PartnerIdentity, render_letter_pdf, render_stamp_pdf
from connector.channels.email import EmailChannel, StampChannel, parse_smtp_url, text_to_html
from connector.channels.letter import LetterChannel
from connector.channels.letter_sample import letter_cli
from connector.channels.print_queue import (
    FileLetterStore,
    PrintQueueError,
    letters_waiting,
    mark_posted,
    merge_letters,
    posted_on,
    print_file_for_day,
)
from connector.channels.sms import (
    SmsChannel,
    TwilioClient,
    WhatsAppChannel,
    check_sms_body,
    compute_twilio_signature,
    normalize_mobile,
    verify_twilio_signature,
)
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.channels.twilio_emulator import TwilioEmulator
from tests.helpers import wait_until

PARTNER = PartnerIdentity(name="Incassopartner", wki_number="WKI-123456")
IBAN = "NL91ABNA0417164300"
SENDER = "herinneringen@partner.example"


def message(channel: str = "email", n_invoices: int = 2, **changes: object) -> OutgoingMessage:
    invoices = tuple(
        InvoiceLine(f"F2026-{i:04d}", "02-02-2026", "04-03-2026", Decimal("100.25") + i)
        for i in range(1, n_invoices + 1)
    )
    base: dict[str, object] = {
        "delivery_id": "d" + "0" * 30 + channel[0],
        "channel": channel,
        "template": "stamp" if channel != "letter" else "profitletter_consumer",
        "debtor_kind": "consumer",
        "recipient_name": "Jan de Vries",
        "creditor_name": "Bakkerij Zoet B.V.",
        "subject": "Laatste herinnering",
        "body": "Beste Jan de Vries,\n\nEr staat nog <iets> open & dat moet betaald.\n"
                "Tweede regel.\n\nMet vriendelijke groet,\nBakkerij Zoet B.V.",
        "invoices": invoices,
        "total": sum((i.open_amount for i in invoices), Decimal("0")),
        "email": "jan@debiteur.example",
        "phone": "06 12345678",
        "postal_address": ("Jan de Vries", "Kerkstraat 12", "3512 AB Utrecht"),
        "extra": {"iban": IBAN, "reference": "F2026-0001", "reply_to": "info@bakkerijzoet.example"},
    }
    base.update(changes)
    return OutgoingMessage(**base)  # type: ignore[arg-type]


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text_any_angle(pdf: bytes) -> str:
    """Text at any angle: pypdf 7 leaves out text that is not at 0/90/180/270 degrees, such as
    the stamp (rotated -9 degrees); PDFium reads it."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def compact(text: str) -> str:
    return "".join(text.split())


# -- SMTP ---------------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[CaptureSmtpServer]:
    server = CaptureSmtpServer().start()
    yield server
    server.stop()


def test_smtp_url_parsing_keeps_password_out_of_repr() -> None:
    cfg = parse_smtp_url("smtp+starttls://user%40x:p%40ss@mail.example:2525")
    assert (cfg.host, cfg.port, cfg.username, cfg.password) == (
        "mail.example", 2525, "user@x", "p@ss")
    assert cfg.starttls and not cfg.implicit_tls
    assert "p@ss" not in repr(cfg)
    assert parse_smtp_url("smtps://h").port == 465
    with pytest.raises(ValueError) as info:
        parse_smtp_url("http://user:secret@h")
    assert "secret" not in str(info.value)


def test_email_headers_html_alternative(smtp: CaptureSmtpServer) -> None:
    channel = EmailChannel(smtp.url, SENDER, timeout=5, partner=PARTNER)
    ref = channel.send(message())
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["From"].addresses[0].display_name == "Bakkerij Zoet B.V. via Incassopartner"
    assert mail["From"].addresses[0].addr_spec == SENDER
    assert mail["Reply-To"].addresses[0].addr_spec == "info@bakkerijzoet.example"
    assert mail["To"].addresses[0].addr_spec == "jan@debiteur.example"
    assert mail["Message-ID"] == ref and ref.endswith("@partner.example>")
    assert smtp.envelopes[0].rcpt_tos == ("jan@debiteur.example",)
    assert mail.get_body(("plain",)).get_content().startswith("Beste Jan de Vries,")
    html = mail.get_body(("html",)).get_content()
    assert "&lt;iets&gt; open &amp; dat" in html and "<br>" in html and "<iets>" not in html
    assert list(mail.iter_attachments()) == []


def test_email_letter_carries_pdf(smtp: CaptureSmtpServer) -> None:
    EmailChannel(smtp.url, SENDER, partner=PARTNER).send(message("letter"))
    attachments = list(smtp.messages[0].iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_content().startswith(b"%PDF")


def test_email_without_address_is_rejected_without_data(smtp: CaptureSmtpServer) -> None:
    channel = EmailChannel(smtp.url, SENDER)
    for bad in (None, "", "jan@debiteur.example\r\nBcc: x@y.example", "geen-adres"):
        with pytest.raises(ChannelRejected) as info:
            channel.send(message(email=bad))
        assert "debiteur.example" not in str(info.value)
    assert smtp.messages == []


def test_refused_recipient_is_rejected(smtp: CaptureSmtpServer) -> None:
    smtp.refuse_recipient("jan@debiteur.example")
    with pytest.raises(ChannelRejected) as info:
        EmailChannel(smtp.url, SENDER).send(message())
    assert "550" in str(info.value) and "jan@" not in str(info.value)
    assert smtp.messages == []


def test_dropped_connection_after_data_is_uncertain(smtp: CaptureSmtpServer) -> None:
    smtp.drop_after_data()
    with pytest.raises(ChannelUncertain):
        EmailChannel(smtp.url, SENDER, timeout=5).send(message())
    assert len(smtp.messages) == 1  # it did arrive: exactly why a blind retry is wrong


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_connection_refused_and_bad_login_are_rejected() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(ChannelRejected):
        EmailChannel(f"smtp://127.0.0.1:{free}", SENDER, timeout=2).send(message())
    with CaptureSmtpServer(credentials=("mailer", "right")) as server:
        with pytest.raises(ChannelRejected) as info:
            EmailChannel(f"smtp://mailer:wrong@127.0.0.1:{server.port}", SENDER).send(message())
        assert "wrong" not in str(info.value)
        EmailChannel(server.url, SENDER).send(message())
        assert len(server.messages) == 1


def test_text_to_html_escapes() -> None:
    assert "<script>" not in text_to_html("<script>alert(1)</script>")


# -- letters ------------------------------------------------------------------------------


def test_letter_pdf_is_a4_with_iban_invoices_and_page_numbers() -> None:
    pdf = render_letter_pdf(message("letter", 3), PARTNER, letter_date=date(2026, 3, 2))
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) <= 1 and abs(float(box.height) - 842) <= 1
    text = "\n".join(pdf_text(pdf))
    assert IBAN in compact(text)
    for number in ("F2026-0001", "F2026-0002", "F2026-0003"):
        assert number in text
    assert f"pagina 1 van {len(reader.pages)}" in text
    assert "namens" in text and "Bakkerij Zoet B.V." in text and "WKI-123456" in text
    assert "2 maart 2026" in text
    assert "&lt;" not in text and "<iets>" in text  # escaped in HTML, shown as written


def test_long_invoice_list_spills_onto_page_two() -> None:
    pdf = render_letter_pdf(message("letter", 25), PARTNER)
    pages = pdf_text(pdf)
    assert len(pages) == 2
    assert "pagina 2 van 2" in pages[1]
    text = "\n".join(pages)
    assert all(f"F2026-{i:04d}" in text for i in range(1, 26))


def test_letter_without_address_is_rejected() -> None:
    with pytest.raises(ChannelRejected):
        render_letter_pdf(message("letter", postal_address=()), PARTNER)


def test_stamp_pdf_carries_the_stamp() -> None:
    text = pdf_text_any_angle(render_stamp_pdf(message("stamp"), PARTNER))
    assert "LAATSTE HERINNERING" in text
    assert "hierna overdracht aan" in text.lower() and "Incassopartner" in text


def test_stamp_channel_mails_the_stamp_page(smtp: CaptureSmtpServer) -> None:
    StampChannel(smtp.url, SENDER, partner=PARTNER).send(message("stamp"))
    (attachment,) = smtp.messages[0].iter_attachments()
    assert "LAATSTE HERINNERING" in pdf_text_any_angle(attachment.get_content())


def test_letter_channel_queues_mails_and_posts(tmp_path: Path, smtp: CaptureSmtpServer) -> None:
    store = FileLetterStore(tmp_path / "letters")
    day1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    channel = LetterChannel(store, PARTNER, EmailChannel(smtp.url, SENDER, partner=PARTNER),
                            now=lambda: day1)
    first = message("letter", delivery_id="a" * 32)
    assert channel.send(first) == "letter:" + "a" * 32
    assert channel.send(first) == "letter:" + "a" * 32  # idempotent: not queued or mailed twice
    channel.send(message("letter", delivery_id="b" * 32, email=None))
    assert len(smtp.messages) == 1
    assert store.get("a" * 32).email_ref == smtp.messages[0]["Message-ID"]
    assert (tmp_path / "letters" / f"{'a' * 32}.pdf").exists()
    index = (tmp_path / "letters" / "index.json").read_text()
    assert "Vries" not in index and "Kerkstraat" not in index  # no debtor data in the index

    waiting = letters_waiting(store, date(2026, 3, 2))
    assert [e.delivery_id for e in waiting] == ["a" * 32, "b" * 32]
    assert letters_waiting(store, date(2026, 3, 1)) == []
    ids, merged = print_file_for_day(store, date(2026, 3, 2))
    pages_each = [e.pages for e in waiting]
    assert len(PdfReader(io.BytesIO(merged)).pages) == sum(pages_each)
    duplex = merge_letters(store, ids, duplex=True)
    assert len(PdfReader(io.BytesIO(duplex)).pages) == sum(p + p % 2 for p in pages_each)

    with pytest.raises(PrintQueueError, match="before they were made"):  # 1 March: no letter yet
        mark_posted(store, ids, date(2026, 3, 1))
    with pytest.raises(PrintQueueError):  # a day late: the term in the letter is now too early
        mark_posted(store, ids, date(2026, 3, 3))
    batch = mark_posted(store, ids, date(2026, 3, 2))
    assert batch and posted_on(store, "a" * 32) == date(2026, 3, 2)
    assert letters_waiting(store, date(2026, 3, 2)) == []
    assert posted_on(FileLetterStore(tmp_path / "letters"), "b" * 32) == date(2026, 3, 2)
    assert posted_on(store, "c" * 32) is None


def test_letter_channel_email_failure_does_not_fail_the_letter(
    tmp_path: Path, smtp: CaptureSmtpServer
) -> None:
    smtp.refuse_recipient("jan@debiteur.example")
    store = FileLetterStore(tmp_path)
    channel = LetterChannel(store, PARTNER, EmailChannel(smtp.url, SENDER))
    assert channel.send(message("letter")).startswith("letter:")
    entry = store.get(message("letter").delivery_id)
    assert entry.email_ref is None and entry.email_problem.startswith("rejected")


@pytest.mark.parametrize("kind", ["consumer", "business"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sample_letter_command(tmp_path: Path, kind: str, lang: str) -> None:
    out = tmp_path / f"{kind}-{lang}.pdf"
    result = CliRunner().invoke(
        letter_cli, ["sample", "--kind", kind, "--lang", lang, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = "\n".join(pdf_text(out.read_bytes()))
    assert "NL91ABNA0417164300" in compact(text)
    assert ("pagina 1 van" if lang == "nl" else "page 1 of") in text
    if kind == "consumer":
        # the 14-day wording and the exact BIK amount of the demo claim (€ 673,45 → € 101,02)
        assert ("veertien dagen" if lang == "nl" else "fourteen days") in text
        assert "101,02" in text


# -- SMS / WhatsApp -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 12345678", "+31612345678"),
        ("06-1234 5678", "+31612345678"),
        ("+31 6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("+32 470 12 34 56", "+32470123456"),  # a Belgian mobile
        ("020 123 4567", None),  # Amsterdam landline
        ("0800 0123", None),  # free phone
        ("06 1234", None),  # too short
        ("bel me maar", None),
        ("", None),
        (None, None),
    ],
)
def test_mobile_normalisation(raw: str | None, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ChannelRejected):
            normalize_mobile(raw)
    else:
        assert normalize_mobile(raw) == expected


def test_sms_length_and_charset() -> None:
    assert check_sms_body("a" * 160) == "a" * 160
    with pytest.raises(ChannelRejected):
        check_sms_body("a" * 161)
    with pytest.raises(ChannelRejected):
        check_sms_body("€" * 81)  # the euro sign takes two septets
    assert check_sms_body("€" * 80)
    with pytest.raises(ChannelRejected):
        check_sms_body("Zoë")  # ë is not GSM-7


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Twilio:
    emulator: TwilioEmulator
    url: str  # the emulator's base URL
    callback_url: str  # a loopback receiver for status callbacks
    received: list[tuple[dict[str, str], str]]  # (params, X-Twilio-Signature) per callback

    def client(self, timeout: float = 5) -> TwilioClient:
        return TwilioClient(self.emulator.account_sid, self.emulator.auth_token,
                            base_url=self.url, timeout=timeout)


@pytest.fixture
def twilio() -> Iterator[Twilio]:
    received: list[tuple[dict[str, str], str]] = []

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        params = dict(parse_qsl(environ["wsgi.input"].read(size).decode()))
        received.append((params, environ.get("HTTP_X_TWILIO_SIGNATURE", "")))
        start_response("204 No Content", [])
        return []

    receiver = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    emulator = TwilioEmulator()
    server = emulator.serve()
    yield Twilio(emulator, server.url,
                 f"http://127.0.0.1:{receiver.server_port}/webhooks/twilio?company=1", received)
    server.shutdown()
    receiver.shutdown()
    receiver.server_close()


def test_sms_posts_to_twilio(twilio: Twilio) -> None:
    channel = SmsChannel(twilio.client(), "PartnerNL")
    sid = channel.send(message("sms", body="Bakkerij Zoet heeft u een bericht gestuurd."))
    assert sid.startswith("SM") and len(sid) == 34
    stored = twilio.emulator.message(sid)
    assert stored["to"] == "+31612345678" and stored["from"] == "PartnerNL"
    assert stored["status"] == "queued" and stored["direction"] == "outbound-api"
    assert stored["body"] == "Bakkerij Zoet heeft u een bericht gestuurd."


def test_status_callback_signature(twilio: Twilio) -> None:
    token, url = twilio.emulator.auth_token, twilio.callback_url
    sms = SmsChannel(twilio.client(), "+3197010000000", status_callback=url)
    sid = sms.send(message("sms", body="Kort bericht."))
    wait_until(lambda: len(twilio.received) >= 2, timeout=5)
    assert [p["MessageStatus"] for p, _ in twilio.received] == ["sent", "delivered"]
    for params, signature in twilio.received:
        assert params["MessageSid"] == sid
        assert verify_twilio_signature(url, params, signature, token)
        tampered = dict(params, MessageStatus="failed")
        assert not verify_twilio_signature(url, tampered, signature, token)
        assert not verify_twilio_signature(url, params, signature, "other-token")
        assert not verify_twilio_signature(url + "&y=2", params, signature, token)
    assert not verify_twilio_signature(url, {}, "", token)


def test_known_signature_vectors() -> None:
    # Twilio's published RequestValidator vectors (twilio-php / twilio-csharp unit tests).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    assert compute_twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert verify_twilio_signature(url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert verify_twilio_signature(with_port, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                ("Digits", "1234"), ("Digits", "1234")]
    assert verify_twilio_signature(url, repeated, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", "12345")
    assert not verify_twilio_signature(url, params, "invalid 王", "12345")


def test_sms_rejected_before_sending(twilio: Twilio) -> None:
    emulator = twilio.emulator
    channel = SmsChannel(twilio.client(), "PartnerNL")
    with pytest.raises(ChannelRejected):
        channel.send(message("sms", body="x" * 161))
    with pytest.raises(ChannelRejected):
        channel.send(message("sms", body="Kort.", phone="020 123 4567"))
    assert emulator.messages == []


def test_twilio_4xx_is_rejected_5xx_uncertain(twilio: Twilio) -> None:
    emulator, url = twilio.emulator, twilio.url
    channel = SmsChannel(twilio.client(), "PartnerNL")
    sms = message("sms", body="Kort.")
    emulator.inject_error(400, 21211, "Invalid 'To' Phone Number: +31612345678")
    with pytest.raises(ChannelRejected) as info:
        channel.send(sms)
    assert "21211" in str(info.value) and "+316" not in str(info.value)
    emulator.inject_error(500, accepted=True)
    with pytest.raises(ChannelUncertain):
        channel.send(sms)
    assert len(emulator.messages) == 1  # the 500 came after it was accepted
    emulator.inject_error(200, delay=1.0, accepted=True)
    with pytest.raises(ChannelUncertain):
        SmsChannel(twilio.client(timeout=0.3), "PartnerNL").send(sms)
    bad_auth = TwilioClient(emulator.account_sid, "wrong", base_url=url)
    with pytest.raises(ChannelRejected) as info:
        SmsChannel(bad_auth, "PartnerNL").send(sms)
    assert "20003" in str(info.value)


def test_twilio_unreachable_is_rejected() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    client = TwilioClient("AC" + "0" * 32, "token", base_url=f"http://127.0.0.1:{free}")
    with pytest.raises(ChannelRejected):
        SmsChannel(client, "PartnerNL").send(message("sms", body="Kort."))


def test_whatsapp_uses_an_approved_template(twilio: Twilio) -> None:
    emulator = twilio.emulator
    content_sid = "HX" + "a" * 32
    channel = WhatsAppChannel(twilio.client(), "+3197010000000", content_sid)
    sid = channel.send(message("whatsapp"))
    stored = emulator.message(sid)
    assert stored["to"] == "whatsapp:+31612345678"
    assert stored["from"] == "whatsapp:+3197010000000"
    assert stored["content_sid"] == content_sid
    variables = json.loads(stored["content_variables"])
    assert variables["2"] == "Bakkerij Zoet B.V." and variables["5"] == IBAN
    with pytest.raises(ChannelRejected):
        WhatsAppChannel(twilio.client(), "+3197010000000", "HXnope").send(
            message("whatsapp"))


def test_emulator_errors_are_twilio_shaped(twilio: Twilio) -> None:
    import requests

    emulator, url = twilio.emulator, twilio.url
    endpoint = f"{url}/2010-04-01/Accounts/{emulator.account_sid}/Messages.json"
    auth = (emulator.account_sid, emulator.auth_token)
    answer = requests.post(endpoint, data={"To": "+31201234567", "From": "PartnerNL",
                                           "Body": "x"}, auth=auth, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["code"] == 21614 and set(answer.json()) == {
        "code", "message", "more_info", "status"}
    answer = requests.post(endpoint, data={"To": "nonsense", "From": "PartnerNL", "Body": "x"},
                           auth=auth, timeout=5)
    assert answer.json()["code"] == 21211
    answer = requests.post(endpoint, data={"From": "PartnerNL", "Body": "x"}, auth=auth,
                           timeout=5)
    assert answer.json()["code"] == 21604
    answer = requests.post(endpoint, data={"To": "+31612345678", "From": "PartnerNL"},
                           auth=auth, timeout=5)
    assert answer.json()["code"] == 21602
    answer = requests.post(endpoint, data={}, auth=(emulator.account_sid, "x"), timeout=5)
    assert answer.status_code == 401 and answer.json()["code"] == 20003
