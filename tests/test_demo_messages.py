"""/demo/messages (#16): time and company per e-mail, attachments open, all messages paged."""

from __future__ import annotations

import re
from datetime import date, timedelta

from connector.web import demo
from tests.test_engine_channels import wired  # noqa: F401  (fixture)
from tests.test_web import _operator_session

MONDAY = date(2026, 3, 2)


def test_demo_messages_show_time_company_open_attachments_and_page_through_all(
        wired, live_server, monkeypatch):  # noqa: F811
    world, mail, _twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 8):  # the stamp on 2 March, the Profitletter (with e-mail copy) on 9
        world.day(MONDAY + timedelta(days=offset))
    assert len(mail.messages) == 2
    live_server.app.extensions["demo_mail"] = mail
    monkeypatch.setattr(demo, "PER_PAGE", 1)  # two pages of one, as 25 a page with 26+ mails
    browser = _operator_session(world.services)
    url = world.services.settings.public_url
    first = browser.get(f"{url}/demo/messages").text
    assert "E-mail (2)" in first and "pagina 1 van 2" in first
    assert "Bakkerij Zoet B.V." in first  # the company the mail went out for
    assert re.search(r"<time>\d{1,2} mrt 2026 \d{2}:\d{2}</time>", first)
    second = browser.get(f"{url}/demo/messages", params={"page": 2}).text
    assert "pagina 2 van 2" in second
    links = re.findall(r'href="(/demo/messages/\d+/attachments/\d+)">([^<]+)</a>',
                       first + second)
    assert {name for _href, name in links} >= {"brief.pdf"}
    for href, _name in links:
        opened = browser.get(f"{url}{href}")
        assert opened.status_code == 200 and opened.content.startswith(b"%PDF")
    assert browser.get(f"{url}/demo/messages/99/attachments/0").status_code == 404
