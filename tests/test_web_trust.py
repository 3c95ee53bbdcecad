"""The details that erode a creditor's trust (#16): each reproduced, then fixed."""

from __future__ import annotations

import requests
from sqlalchemy import select

from connector.models import Company
from connector.web import home
from tests.helpers import oauth_connect


def test_unknown_page_shows_the_branded_404_with_a_way_back(services):
    url = services.settings.public_url
    page = requests.get(f"{url}/bestaat-niet", timeout=10)
    assert page.status_code == 404
    assert "Deze pagina bestaat niet" in page.text
    assert 'href="/"' in page.text and "Naar de startpagina" in page.text
    assert "favicon.svg" in page.text
    english = requests.get(f"{url}/bestaat-niet", headers={"Accept-Language": "en"}, timeout=10)
    assert english.status_code == 404 and "This page does not exist" in english.text


def test_a_crash_shows_the_branded_500_and_no_traceback(services, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(home, "timeline", broken)
    page = requests.get(f"{services.settings.public_url}/", timeout=10)
    assert page.status_code == 500
    assert "Er ging iets mis" in page.text and "Naar de startpagina" in page.text
    assert "Traceback" not in page.text and "internal detail" not in page.text


def test_favicon_is_served(services):
    icon = requests.get(f"{services.settings.public_url}/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")


def test_creditor_can_add_another_platform_and_same_names_are_told_apart(
        services, moneybird_emulator):
    url = services.settings.public_url
    first, second = moneybird_emulator.administration_ids()[:2]
    s, _ = oauth_connect(url, moneybird_emulator.server.url, administrations=[first, second],
                         choose=[first, second])
    with services.db.session() as db:
        for company in db.scalars(select(Company)):
            company.name = "Bakkerij Jansen B.V."  # two ledgers of the same name
    listing = s.get(f"{url}/companies/", timeout=10).text
    assert 'href="/connect/moneybird"' in listing and 'href="/connect/exact-online"' in listing
    assert "Pakket of administratie toevoegen" in listing
    assert f"Moneybird · administratie {first}" in listing
    assert f"Moneybird · administratie {second}" in listing
