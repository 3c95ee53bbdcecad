"""Channels: letters rendered per second (HTML and PDF) and e-mails per second over SMTP.

Uses the demo Profitletter message (three invoices). HTML is the Jinja template alone; PDF is
``render_letter_pdf`` (template + WeasyPrint), one process, one thread. E-mails go through
``EmailChannel`` (a new SMTP connection per message, as in production) into the loopback
``CaptureSmtpServer``, which runs in this process and so shares its GIL.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from connector.channels.documents import PartnerIdentity, _context, letter_env, render_letter_pdf
from connector.channels.email import EmailChannel
from connector.channels.letter_sample import sample_message
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.clock import today_nl

TARGET_PDF_PER_SECOND = 10.0


def _rate(count: int, work: Any) -> float:
    started = time.perf_counter()
    for n in range(count):
        work(n)
    return count / (time.perf_counter() - started)


def run(letters: int = 30, emails: int = 300) -> list[dict[str, Any]]:
    today = today_nl()
    partner = PartnerIdentity()
    message = sample_message("consumer", "nl", today)
    template = letter_env.get_template("letter.html")
    render_letter_pdf(message, partner, letter_date=today)  # warm-up: imports, fonts
    html = _rate(letters * 10, lambda _: template.render(**_context(message, partner, "nl",
                                                                    today)))
    pdf = _rate(letters, lambda _: render_letter_pdf(message, partner, letter_date=today))
    rows: list[dict[str, Any]] = [
        {"measure": "letters: HTML rendered per second", "value": round(html),
         "note": f"{letters * 10} renders of the Jinja template"},
        {"measure": "letters: PDF rendered per second (one core)", "value": round(pdf, 1),
         "target": f">={TARGET_PDF_PER_SECOND:g}", "ok": pdf >= TARGET_PDF_PER_SECOND,
         "note": f"{letters} renders, WeasyPrint; {1000 / pdf:.0f} ms each"},
    ]
    server = CaptureSmtpServer().start()
    try:
        channel = EmailChannel(server.url, "herinneringen@partner.example")
        mail = dataclasses.replace(message, channel="email", email="debiteur@example.test")
        sent = _rate(emails, lambda n: channel.send(
            dataclasses.replace(mail, delivery_id=f"bench-{n}")))
        with_pdf = _rate(max(letters // 3, 1), lambda n: channel.send(
            dataclasses.replace(mail, channel="letter", delivery_id=f"bench-pdf-{n}")))
        received = len(server.messages)
    finally:
        server.stop()
    expected = emails + max(letters // 3, 1)
    if received != expected:
        raise RuntimeError(f"channels bench: {received} of {expected} e-mails arrived")
    rows.append({"measure": "e-mails per second into loopback SMTP", "value": round(sent),
                 "note": f"{emails} plain e-mails, one SMTP connection each"})
    rows.append({"measure": "e-mails with letter PDF per second", "value": round(with_pdf, 1),
                 "note": "bounded by the PDF rendering"})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
