"""Steps of the creditor's and the operator's journeys, driven in the browser like a person.

Each step is a small function taking a Playwright ``page`` whose context has the app as its
``base_url`` (the ``page`` fixture in ``conftest.py``), so new journeys are written by chaining
them: ``connect_moneybird(page)`` then ``fill_sender(page, ...)`` then ``go_live(page)``...
Locators are accessible ones (roles, labels, headings), the way a screen reader finds things;
a page that lacks them should get them, not a CSS selector here.

Steps that are not a click in the browser (the engine, the sync) call the services directly,
so a journey is deterministic: ``run_engine(services, company_id)``.

A new page (the policy editor, the letter preview, the call list, the print queue) gets its
steps here, under the journey it belongs to, and a test that chains them from the existing
ones, e.g. ``connect_moneybird(page)`` → ``edit_policy(page, ...)`` → ``shot(page, ...)`` for the
creditor, or ``sign_in_operator(page, ...)`` → ``open_print_queue(page)`` for the operator.
Screenshots are named ``<journey>-<nn>-<page>`` so they sort in the order they were taken.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.conftest import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"
COMPANY_URL = re.compile(r"/companies/([0-9a-f]{32})$")


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot at ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def expect_message(page: Page, text: str | re.Pattern[str]) -> Locator:
    """A flash message (role status or alert) or a field error containing ``text`` is shown."""
    message = page.locator("[role=status], [role=alert], .field-error").filter(has_text=text)
    expect(message.first).to_be_visible()
    return message.first


def section(page: Page, heading: str) -> Locator:
    """A page section (``<section aria-labelledby>``, a region) by its heading."""
    return page.get_by_role("region", name=heading)


# -- creditor: connect ----------------------------------------------------------------------


def start_connect(page: Page, platform: str = "Moneybird") -> None:
    """From the start page, click "Koppel <platform>": lands on the platform's consent page."""
    page.goto("/")
    page.get_by_role("link", name=f"Koppel {platform}").click()
    expect(page.get_by_role("heading", name="Toegang verlenen")).to_be_visible()


def consent(page: Page, administrations: list[str] | None = None) -> None:
    """On the emulator's consent page: tick only ``administrations`` (all when None), allow."""
    if administrations is not None:
        for box in page.get_by_role("checkbox").all():
            name = box.locator("xpath=..").inner_text().strip()
            box.set_checked(name in administrations)
    page.get_by_role("button", name="Toestaan").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Welke .* wilt u koppelen\?$"))
           ).to_be_visible()


def choose_administrations(page: Page, names: list[str]) -> None:
    """On our choose page: tick exactly ``names`` and click "Koppelen"."""
    for box in page.get_by_role("checkbox").all():
        label = box.locator("xpath=..").inner_text()
        box.set_checked(any(label.strip().startswith(name) for name in names))
    page.get_by_role("button", name="Koppelen").click()


def connect_moneybird(page: Page, administration: str | None = None) -> str:
    """The whole connect flow for one administration (the first offered when None).

    Returns the new company's id; the page is then on the company settings page.
    """
    start_connect(page, "Moneybird")
    consent(page)
    if administration is None:
        administration = page.get_by_role("checkbox").first.locator("xpath=..").inner_text()
    choose_administrations(page, [administration.strip()])
    return company_id_from_url(page)


def company_id_from_url(page: Page) -> str:
    page.wait_for_url(COMPANY_URL)
    match = COMPANY_URL.search(page.url)
    assert match, page.url
    return match.group(1)


# -- creditor: the company page -------------------------------------------------------------


def open_company(page: Page, company_id: str) -> None:
    page.goto(f"/companies/{company_id}")
    expect(page.get_by_role("heading", name="Koppeling")).to_be_visible()


def fill_sender(page: Page, name: str, iban: str, email: str = "", phone: str = "") -> None:
    """Fill and save the sender identity ("Afzender") on the company page."""
    form = section(page, "Afzender")
    form.get_by_label("Naam schuldeiser").fill(name)
    form.get_by_label("IBAN", exact=True).fill(iban)
    form.get_by_label("E-mailadres voor vragen").fill(email)
    form.get_by_label("Telefoonnummer voor vragen").fill(phone)
    form.get_by_role("button", name="Opslaan", exact=True).click()


def open_go_live(page: Page) -> None:
    """From the company page, open the go-live confirmation with its computed summary."""
    section(page, "Pre-incasso").get_by_role("link", name="Live gaan…").click()
    expect(page.get_by_role("heading", name="Live gaan: wat er gaat gebeuren")).to_be_visible()


def confirm_go_live(page: Page) -> None:
    """On the confirmation page: confirm (a disabled button, e.g. without IBAN, is left)."""
    button = page.get_by_role("button", name="Bevestigen en live gaan")
    if button.is_enabled():
        button.click()


def go_live(page: Page) -> None:
    """Switch pre-incasso from preview to live from the company page, through the confirmation;
    back on the company page once confirmed, else on the confirmation page with its message."""
    open_go_live(page)
    confirm_go_live(page)


def back_to_preview(page: Page) -> None:
    section(page, "Pre-incasso").get_by_role("button", name="Terug naar voorbeeld").click()


def open_invoice(page: Page, company_id: str, invoice_id: str) -> None:
    page.goto(f"/companies/{company_id}/invoices/{invoice_id}")
    expect(page.get_by_role("heading", name=re.compile(r"^Factuur "))).to_be_visible()


def record_hold(page: Page, kind: str, reason: str, until: date | None = None) -> None:
    """On an invoice page with a case: record a hold; ``kind`` is the option's text,
    e.g. "Betaalbelofte (tot een datum)" for a promise to pay."""
    form = section(page, "Pre-incassodossier")
    form.get_by_label("Soort").select_option(label=kind)
    form.get_by_label("Reden", exact=True).fill(reason)
    form.get_by_label("Tot en met").fill(until.isoformat() if until else "")
    form.get_by_role("button", name="Vastleggen").click()


def promise_to_pay(page: Page, until: date, reason: str = "Belofte aan de telefoon") -> None:
    record_hold(page, "Betaalbelofte (tot een datum)", reason, until)


# -- creditor: policy and texts ------------------------------------------------------------


def open_policy(page: Page, company_id: str) -> None:
    page.goto(f"/companies/{company_id}/policy")
    expect(page.get_by_role("heading", name="Pre-incassobeleid")).to_be_visible()


def policy_step(page: Page, variant: str, number: int) -> Locator:
    """Step ``number`` (1-based) of "Particulieren" or "Zakelijke debiteuren" in the editor."""
    steps = section(page, f"Stappen voor {variant.lower()}")
    return steps.get_by_role("group", name=re.compile(rf"^Stap {number}\b"))


def save_policy(page: Page) -> None:
    page.get_by_role("button", name="Opslaan", exact=True).click()


def preview_template(page: Page, company_id: str, name: str, lang: str = "nl") -> Locator:
    """Open a text in the template editor and preview it for a real case; returns the
    preview section."""
    page.goto(f"/companies/{company_id}/templates")
    expect(page.get_by_role("heading", name="Sjablonen", exact=True)).to_be_visible()
    page.goto(f"/companies/{company_id}/templates/{name}/{lang}")
    page.get_by_role("button", name="Voorbeeld", exact=True).click()
    preview = section(page, "Voorbeeld (niet opgeslagen)")
    expect(preview).to_be_visible()
    return preview


# -- operator -------------------------------------------------------------------------------


def create_operator(app, email: str, password: str) -> str:
    """An operator account, made the way ``connector operator add`` makes it."""
    from connector.web.auth import add_operator

    with app.app_context():
        return add_operator(email, password)


def sign_in_operator(page: Page, email: str, password: str) -> None:
    """Sign in on /login with a password; lands on the console."""
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Console", exact=True)).to_be_visible()


# -- outside the browser: what the worker would do ------------------------------------------


def run_engine(services, company_id: str) -> object:
    """One sync and one engine cycle now, at the next moment debtors may be contacted (so a
    run in the evening still sends), then the write-back outbox: what the worker does."""
    from connector import writeback
    from connector.collection.engine import run_company
    from connector.collection.legal import next_contact_moment
    from connector.models import utcnow
    from connector.sync import sync_company

    sync_company(services, company_id)
    result = run_company(services, company_id, now=next_contact_moment(utcnow()))
    writeback.process_outbox(services)
    return result


# -- creditor: the case timeline -------------------------------------------------------------


def open_from_timeline(page: Page, name: str | re.Pattern[str]) -> tuple[object, bytes]:
    """On an invoice page: open a sent message (the letter, the stamped PDF) from the case's
    steps by its link. Returns the app's answer as the browser got it (status, headers) and
    the bytes behind the link: chromium shows a PDF in its viewer, whose page is not the
    PDF, so the bytes are fetched again with the same cookies."""
    steps = page.locator("#case-steps")
    link = steps.get_by_role("link", name=name)
    href = link.get_attribute("href")
    with page.expect_response(lambda r: r.url.endswith(href)) as answer:
        link.click()
    return answer.value, page.request.get(href).body()
