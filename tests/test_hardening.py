"""Issue #18: what an attack run and real clients found. One test (or more) per finding."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from connector import ConfigurationError, check_settings, create_app
from connector.collection.messages import TemplateFailed, render
from connector.collection.template_check import sample_context
from connector.config import Settings
from connector.models import Operator
from tests import test_engine_channels, test_web_policy
from tests.helpers import csrf_token
from tests.test_web import PASSWORD, _operator_session
from tests.test_web_templates import _company

# Fixtures of other modules this file uses as well.
wired = test_engine_channels.wired
editor = test_web_policy.editor


# 1. Templates can pin a CPU -------------------------------------------------------------------

RECURSIVE_MACRO = ("{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
                   "{{ m(3) }} {{ iban }}")
# Two nested loops over a long string: passes the loop-depth check, costs len² steps.
NESTED_LONG_LOOPS = ("{% for a in creditor * 60 %}{% for b in creditor * 60 %}"
                     "{% if a == '#' %}x{% endif %}{% endfor %}{% endfor %}{{ iban }}")


@pytest.mark.parametrize("body", [RECURSIVE_MACRO, NESTED_LONG_LOOPS])
def test_render_refuses_macros_and_unbounded_loops_everywhere(body):
    context, _facts = sample_context("email", "business", "nl")
    with pytest.raises(TemplateFailed):
        render("email", "email", context, lang="nl", source=body)


def test_a_short_loop_still_renders():
    context, _facts = sample_context("email", "business", "nl")
    body = "{% for i in invoices %}{% for c in i.number %}{{ c }}{% endfor %};{% endfor %}"
    assert render("email", "email", context, lang="nl", source=body).body == "2026-0412;2026-0457;"


def test_preview_and_pdf_apply_the_save_check(services, moneybird_emulator):
    company_id = _company(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/templates/stamp/nl"
    token = csrf_token(browser.get(url).text)
    pdf = browser.post(f"{url}/pdf", data={"csrf_token": token, "body": RECURSIVE_MACRO})
    assert pdf.status_code == 422 and "Macro" in pdf.text
    shown = browser.post(url, data={"csrf_token": token, "body": RECURSIVE_MACRO,
                                    "preview": "Voorbeeld"})
    assert shown.status_code == 200 and "Macro" in shown.text and "srcdoc=" not in shown.text


# 2. Demo secrets ------------------------------------------------------------------------------

def test_demo_secrets_are_refused_even_on_loopback():
    with pytest.raises(ConfigurationError, match="demo"):
        check_settings(Settings())  # e.g. gunicorn 'connector:create_app()' with no settings
    with pytest.raises(ConfigurationError):
        create_app(Settings(database_url="sqlite://"))
    check_settings(Settings(allow_demo_secrets=True))  # connector demo sets this


def test_an_instance_offers_only_the_ledgers_it_names_and_checks_only_their_credentials():
    from connector.config import load_settings

    own = {"SECRET_KEY": "x" * 40, "PUBLIC_URL": "https://incasso.example",
           "TOKEN_ENCRYPTION_KEYS": "a2V5LW9mLWV4YWN0bHktMzItYnl0ZXMtbG9uZy0hIQ=="}
    with pytest.raises(ConfigurationError, match="demo"):
        check_settings(load_settings(own))  # every ledger offered, all on demo credentials
    first = load_settings({**own, "LEDGERS": "moneybird",
                           "MONEYBIRD_CLIENT_ID": "ours", "MONEYBIRD_CLIENT_SECRET": "ours too"})
    assert [plugin.key for plugin in first.plugins] == ["moneybird"]
    check_settings(first)  # the others need no credentials: they are not offered
    with pytest.raises(ValueError, match="LEDGERS: unknown ledger boekhoudding"):
        load_settings({**own, "LEDGERS": "moneybird, boekhoudding"})


def test_a_forged_cookie_signed_with_the_demo_key_opens_nothing(services):
    """The tests' app runs with its own secret: a demo-key cookie is just garbage."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    with services.db.session() as db:
        operator = Operator(email="op@partner.example", password_hash="x")
        db.add(operator)
        db.flush()
        operator_id = operator.id
    forger = Flask("forger")
    forger.secret_key = "demo-only-secret-key"
    cookie = SecureCookieSessionInterface().get_signing_serializer(forger).dumps(
        {"operator_id": operator_id})
    s = requests.Session()
    s.cookies.set("session", cookie)
    url = services.settings.public_url
    assert s.get(f"{url}/companies/", allow_redirects=False).status_code == 302


# 3. Sessions can be revoked -------------------------------------------------------------------

def _copy(session: requests.Session) -> requests.Session:
    other = requests.Session()
    other.cookies.update(session.cookies)
    return other


def test_logout_revokes_every_copy_of_the_cookie(services):
    browser = _operator_session(services)
    url = services.settings.public_url
    stolen = _copy(browser)
    assert stolen.get(f"{url}/companies/", allow_redirects=False).status_code == 200
    page = browser.get(f"{url}/companies/").text
    browser.post(f"{url}/logout", data={"csrf_token": csrf_token(page)})
    assert stolen.get(f"{url}/companies/", allow_redirects=False).status_code == 302


def test_a_password_change_or_a_deleted_operator_ends_sessions(services):
    from connector.web.auth import set_password

    browser = _operator_session(services)
    url = services.settings.public_url
    set_password(services.db, "op@partner.example", "a new password!")
    assert browser.get(f"{url}/companies/", allow_redirects=False).status_code == 302

    again = requests.Session()
    page = again.get(f"{url}/login")
    again.post(f"{url}/login", data={"csrf_token": csrf_token(page.text),
                                     "email": "op@partner.example", "password": "a new password!"})
    assert again.get(f"{url}/companies/", allow_redirects=False).status_code == 200
    with services.db.session() as db:
        db.delete(db.scalars(select(Operator)).one())
    assert again.get(f"{url}/companies/", allow_redirects=False).status_code == 302


# 4. Login limit under parallel requests -------------------------------------------------------

def test_parallel_guesses_get_at_most_the_limit_of_password_checks(services, monkeypatch):
    from connector.web import auth, login_limits

    with services.db.session() as db:
        db.add(Operator(email="op@partner.example", password_hash=generate_password_hash(PASSWORD)))
    checks = []
    real_check = auth.check_password_hash

    def counting(hash_: str, password: str) -> bool:
        checks.append(1)
        return real_check(hash_, password)

    monkeypatch.setattr(auth, "check_password_hash", counting)
    url = services.settings.public_url
    sessions = [requests.Session() for _ in range(40)]
    tokens = [csrf_token(s.get(f"{url}/login").text) for s in sessions]
    barrier = threading.Barrier(40)
    codes: list[int] = []

    def guess(s: requests.Session, token: str) -> None:
        barrier.wait()
        codes.append(s.post(f"{url}/login", data={"csrf_token": token,
                                                  "email": "op@partner.example",
                                                  "password": "wrong password!"},
                            timeout=120).status_code)

    threads = [threading.Thread(target=guess, args=pair)
               for pair in zip(sessions, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert len(codes) == 40
    assert len(checks) <= login_limits.MAX_PER_EMAIL + 1
    assert codes.count(429) >= 40 - len(checks)


# 5. Logo pixel bombs --------------------------------------------------------------------------

def _png(size: tuple[int, int], mode: str = "1") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else (200, 30, 30)).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_a_logo_with_too_many_pixels_is_refused(services):
    from connector.partner import current_partner

    bomb = _png((12_000, 12_000))  # 144 megapixels in a few kB
    assert len(bomb) < 500 * 1024
    url = services.settings.public_url
    browser = _operator_session(services)
    page = browser.get(f"{url}/operator/partner").text
    refused = browser.post(f"{url}/operator/partner/logo", data={"csrf_token": csrf_token(page)},
                           files={"logo": ("logo.png", bomb, "image/png")})
    assert refused.status_code == 200 and "pixels" in refused.text
    with services.db.session() as db:
        assert current_partner(db, services.settings).logo_uri == ""


def test_a_big_logo_is_stored_at_letterhead_size():
    import io

    from PIL import Image

    from connector.web.settings_forms import LOGO_BOX, normalise_logo

    content, mime = normalise_logo(_png((3_000, 1_500), "RGB"))
    assert mime == "image/png"
    with Image.open(io.BytesIO(content)) as image:
        assert image.width <= LOGO_BOX[0] and image.height <= LOGO_BOX[1]
        assert image.width == 2 * image.height  # the shape is kept


# 6. CSV formula injection ---------------------------------------------------------------------

def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised():
    from datetime import UTC, datetime
    from decimal import Decimal
    from types import SimpleNamespace

    from connector.collection.fees import Statement
    from connector.csv_export import safe_cell, statement_csv

    for hostile in ("=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(hostile) == "'" + hostile
    assert safe_cell("Profitletter") == "Profitletter"
    line = SimpleNamespace(created_at=datetime(2026, 3, 2, tzinfo=UTC),
                           description='=HYPERLINK("http://evil.example","klik")',
                           amount=Decimal("14.95"))
    text = statement_csv(Statement(month="2026-03", lines=[line]))
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ";=HYPERLINK" not in text
    assert "14,95" in text


# 7. Exact connect when the consent leaves out the user's current division ----------------------

def test_exact_connect_works_for_a_consented_division_that_is_not_the_current_one(
        make_services, exact_emulator):
    import re

    from tests.helpers import hidden_fields

    services = make_services(exact=exact_emulator)
    current = exact_emulator.current_division
    other = next(d for d in exact_emulator.division_codes() if d != current)
    app = services.settings.public_url
    s = requests.Session()
    consent = s.get(f"{app}/connect/exact-online", params={"region": "nl"})
    form = hidden_fields(consent.text)
    action = re.search(r'<form method="post" action="([^"]+)"', consent.text).group(1)
    chooser = s.post(exact_emulator.server.url + action,
                     data={**form, "decision": "approve", "division": [str(other)]})
    assert chooser.status_code == 200 and chooser.url == f"{app}/connect/choose", chooser.text
    assert re.findall(r'name="tenants" value="(\d+)"', chooser.text) == [str(other)]
    page = s.post(f"{app}/connect/choose",
                  data={"csrf_token": csrf_token(chooser.text), "tenants": [str(other)]})
    assert page.status_code == 200 and "Exact Online" in page.text


def test_exact_emulator_me_names_a_division_inside_the_consent(exact_emulator):
    current = exact_emulator.current_division
    other = next(d for d in exact_emulator.division_codes() if d != current)
    access, _refresh = exact_emulator.issue_token([other])
    base = f"{exact_emulator.server.url}/api/v1"
    auth = {"Authorization": f"Bearer {access}", "Accept": "application/json"}
    me = requests.get(f"{base}/current/Me", params={"$select": "CurrentDivision"},
                      headers=auth, timeout=30).json()["d"]["results"][0]
    assert me["CurrentDivision"] == other
    refused = requests.get(f"{base}/{current}/system/Divisions", headers=auth, timeout=30)
    assert refused.status_code == 403 and "division scope" in refused.text
    # Without a narrower consent the user's own current division is still the answer.
    access_all, _ = exact_emulator.issue_token()
    me_all = requests.get(f"{base}/current/Me", params={"$select": "CurrentDivision"},
                          headers={**auth, "Authorization": f"Bearer {access_all}"},
                          timeout=30).json()["d"]["results"][0]
    assert me_all["CurrentDivision"] == current


# 8. Write-back keys are the server's, per company ---------------------------------------------

def _synced_invoice(services, emulator, adm: str | None = None):
    from connector.models import Invoice
    from connector.sync import sync_company
    from tests.helpers import connect_direct, go_live

    company_id = connect_direct(services, emulator, adm)
    go_live(services, company_id)  # a company in preview writes nothing to its ledger
    sync_company(services, company_id)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id,
                                                   Invoice.open_amount > 5)).first()
        return company_id, invoice.id


def test_a_note_form_cannot_choose_the_key_of_the_engines_write(services, moneybird_emulator):
    from connector import writeback
    from connector.models import Invoice, LedgerWrite

    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    with services.db.session() as db:
        pause = writeback.queue(db, db.get(Invoice, invoice_id), "pause",
                                key=writeback.derived_key("pause", invoice_id))
        engine_key = pause.key
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice_id}"
    page = browser.get(url).text
    for field in ("note-key", "note-submission"):
        browser.post(url, data={"note-csrf_token": csrf_token(page), "note-text": f"via {field}",
                                field: engine_key})
    with services.db.session() as db:
        writes = list(db.scalars(select(LedgerWrite).where(LedgerWrite.invoice_id == invoice_id)))
    notes = [w for w in writes if w.kind == "note"]
    assert sorted(w.payload["text"] for w in notes) == ["via note-key", "via note-submission"]
    assert all(w.key != engine_key for w in notes)
    assert [w.kind for w in writes if w.key == engine_key] == ["pause"]


def test_submitting_the_same_note_form_twice_queues_one_write(services, moneybird_emulator):
    import re

    from connector.models import LedgerWrite

    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice_id}"
    page = browser.get(url).text
    hidden = dict(re.findall(r'name="(note-[a-z]+)" type="hidden" value="([^"]*)"', page))
    hidden.update(re.findall(r'id="(note-[a-z]+)" name="note-[a-z]+" type="hidden" '
                             r'value="([^"]*)"', page))
    data = {**hidden, "note-csrf_token": csrf_token(page), "note-text": "een keer"}
    browser.post(url, data=data)
    browser.post(url, data=data)
    with services.db.session() as db:
        notes = list(db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "note")))
    assert [n.payload["text"] for n in notes] == ["een keer"]


def test_the_same_key_in_two_companies_is_two_writes(services, moneybird_emulator):
    from connector import writeback
    from connector.models import Invoice
    from connector.sync import sync_company
    from tests.helpers import connect_direct, go_live

    first, second = moneybird_emulator.administration_ids()[:2]
    _a, invoice_a = _synced_invoice(services, moneybird_emulator, first)
    company_b = connect_direct(services, moneybird_emulator, second)
    go_live(services, company_b)
    sync_company(services, company_b)
    with services.db.session() as db:
        invoice_b = db.scalars(select(Invoice).where(Invoice.company_id == company_b)).first()
        a = writeback.queue_note(db, db.get(Invoice, invoice_a), "a", key="PI-SAMEKEY")
        b = writeback.queue_note(db, invoice_b, "b", key="PI-SAMEKEY")
        assert a.id != b.id and b.company_id == company_b
        again = writeback.queue_note(db, invoice_b, "b again", key="PI-SAMEKEY")
        assert again.id == b.id  # within one company the key still deduplicates


# 9. Orphan grants -----------------------------------------------------------------------------

def test_orphan_grants_are_forgotten_and_never_kept_alive(services, moneybird_emulator):
    from datetime import timedelta

    from connector import connections
    from connector.models import Grant, utcnow
    from connector.worker import keep_alive
    from providers.base import TokenSet
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    access, refresh = moneybird_emulator.issue_token()
    orphan = connections.create_grant(services, "moneybird", TokenSet(access, refresh, None))
    long_ago = utcnow() - timedelta(days=30)
    with services.db.session() as db:
        for grant in db.scalars(select(Grant)):
            grant.refreshed_at = grant.created_at = long_ago
        used = db.scalars(select(Grant).where(Grant.id != orphan)).one().id

    assert keep_alive(services) == 1  # only the grant a company uses
    with services.db.session() as db:
        assert db.get(Grant, orphan).refreshed_at == long_ago

    fresh = connections.create_grant(services, "moneybird", TokenSet(*moneybird_emulator
                                                                     .issue_token(), None))
    assert connections.forget_orphan_grants(services) == 1
    with services.db.session() as db:
        gone = db.get(Grant, orphan)
        assert gone.status == "revoked" and gone.access_token_enc is None
        assert gone.refresh_token_enc is None
        assert db.get(Grant, fresh).status == "active"  # a connect may still be under way
        assert db.get(Grant, used).status == "active" and db.get(Grant, used).refresh_token_enc
    assert company_id


# 10. Moneybird webhook edge cases -------------------------------------------------------------

def test_moneybird_webhook_garbage_is_refused_never_a_500(services, moneybird_emulator):
    import json
    import time

    from connector.models import Connection
    from tests.helpers import connect_direct

    connect_direct(services, moneybird_emulator)
    with services.db.session() as db:
        connection = db.scalars(select(Connection)).one()
    url = f"{services.settings.public_url}/webhooks/moneybird/{connection.id}"
    event = json.dumps({"administration_id": connection.tenant_id, "action": "x"}).encode()
    for header in ("t=²,v1=00", "t=¹²³,v1=00", f"t={int(time.time())}x,v1=00", "t=,v1="):
        response = requests.post(url, data=event, timeout=30,
                                 headers={"Moneybird-Signature": header})
        assert response.status_code == 401, header
    nested = b"[" * 100_000 + b"]" * 100_000
    response = requests.post(url, data=nested, timeout=30,
                             headers={"Moneybird-Signature": f"t={int(time.time())},v1=00"})
    assert response.status_code in (400, 401)
    deep = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    assert requests.post(url, data=deep, timeout=30).status_code in (400, 401)


def test_a_replayed_delivery_with_a_new_or_no_key_is_a_duplicate(services, moneybird_emulator):
    import json
    import time

    from connector.models import Company, Connection
    from providers.moneybird.webhooks import sign
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    with services.db.session() as db:
        connection = db.scalars(select(Connection)).one()
        secret = services.box.decrypt(connection.webhook_secret_enc)
    url = f"{services.settings.public_url}/webhooks/moneybird/{connection.id}"
    raw = json.dumps({"administration_id": connection.tenant_id, "entity_id": "1",
                      "action": "sales_invoice_state_changed_to_paid"}).encode()
    signature = sign(raw, secret, int(time.time()))

    def deliver(key: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json", "Moneybird-Signature": signature}
        if key:
            headers["Idempotency-Key"] = key
        return requests.post(url, data=raw, headers=headers, timeout=30)

    assert deliver("first").text == "ok"
    with services.db.session() as db:
        db.get(Company, company_id).sync_requested_at = None
    assert deliver("second").text == "duplicate"
    assert deliver(None).text == "duplicate"
    with services.db.session() as db:
        assert db.get(Company, company_id).sync_requested_at is None


# 11. Twilio callbacks with repeated form keys -------------------------------------------------

def test_twilio_callbacks_with_repeated_keys_are_accepted(wired):
    from datetime import date, timedelta

    from connector.models import Delivery
    from tests.helpers import wait_until

    world, _, twilio, _ = wired
    # Two values for one key, in an order Twilio's RequestValidator sorts before signing.
    twilio.callback_extra = [("ErrorCode", "30008"), ("ErrorCode", "30003"), ("Tag", "x")]
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    world.invoice(world.consumer, "99.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 13):
        world.day(date(2026, 3, 2) + timedelta(days=offset))

    def reported() -> str | None:
        with world.services.db.session() as db:
            sms = db.scalars(select(Delivery).where(Delivery.channel == "sms")).one()
            return (sms.content or {}).get("delivery_status")

    wait_until(lambda: len(twilio.callbacks) >= 2, timeout=30)
    assert [c["answer"] for c in twilio.callbacks] == [200, 200]
    assert reported() == "delivered"


def test_twilio_signature_uses_every_value_of_a_key_sorted():
    from werkzeug.datastructures import MultiDict

    from connector.channels.sms import compute_twilio_signature, verify_twilio_signature

    url = "https://connector.example/webhooks/twilio/status"
    pairs = [("MessageSid", "SM1"), ("ErrorCode", "b"), ("ErrorCode", "a")]
    # Twilio: url + for each key (sorted) every value (sorted): ErrorCodeaErrorCodebMessageSidSM1
    signature = compute_twilio_signature(url, pairs, "token")
    assert verify_twilio_signature(url, MultiDict(pairs), signature, "token")
    assert not verify_twilio_signature(url, MultiDict(pairs[:2]), signature, "token")


# 12. Bad input: a clear message, nothing stored -----------------------------------------------

@pytest.mark.parametrize("days", ["²", "1²", "9" * 5000])
def test_policy_day_counts_with_odd_digits_are_refused(services, editor, days):
    from tests.test_web_policy import _policy_events, _stored, form_fields

    company_id, browser, url, token = editor
    before = _stored(services, company_id)
    for field in ("start_after_days", "consumer__1__delay_days"):
        data = form_fields(before, **{field: days})
        refused = browser.post(url, data={"csrf_token": token, "action": "save", **data})
        assert refused.status_code == 200 and "Niet opgeslagen" in refused.text, field
        assert "Vul een heel aantal dagen in" in refused.text
    moved = browser.post(url, data={"csrf_token": token, "action": f"up:consumer:{days}",
                                    **form_fields(before)})
    assert moved.status_code == 200
    assert _stored(services, company_id) == before
    assert _policy_events(services, company_id) == []


@pytest.mark.parametrize(("amount", "paid_on", "message"), [
    ("NaN", "2026-01-05", "Vul een bedrag in"),
    ("sNaN", "2026-01-05", "Vul een bedrag in"),
    ("Infinity", "2026-01-05", "Vul een bedrag in"),
    ("1e999999", "2026-01-05", "Vul een bedrag in"),
    ("1.00", "0001-01-01", "te ver in het verleden"),
])
def test_payment_form_refuses_nan_and_ancient_dates(services, moneybird_emulator, amount,
                                                    paid_on, message):
    from connector.models import LedgerWrite

    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice_id}"
    page = browser.get(url).text
    refused = browser.post(url, data={"payment-csrf_token": csrf_token(page),
                                      "payment-amount": amount, "payment-paid_on": paid_on})
    assert refused.status_code == 200 and message in refused.text
    with services.db.session() as db:
        assert list(db.scalars(select(LedgerWrite))) == []


def test_payment_settings_ids_with_odd_digits_are_refused(services, moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(url).text
    refused = browser.post(f"{url}/payment-settings", data={
        "csrf_token": csrf_token(page), "manual_payment_action": "",
        "financial_account_id": "12²"})
    assert refused.status_code in (200, 302) and refused.status_code != 500


def test_huge_page_numbers_are_clamped(services, moneybird_emulator):
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    for path in ("", "/cases", "/cases/handover"):
        for page in ("100000000000000000000", "-5", "x"):
            response = browser.get(f"{base}{path}", params={"page": page})
            assert response.status_code in (200, 404), (path, page, response.status_code)


def test_cli_refuses_bad_arguments_with_a_message(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from connector.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    for args in (["legal", "term", "0001-01-01"], ["legal", "term", "9999-12-31"],
                 ["sync", "nonexistent"], ["operator", "add", "", "--password", "a long password"],
                 ["operator", "add", "   ", "--password", "a long password"],
                 ["operator", "set-password", "nobody@x.example", "--password", "a long password"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code != 0, args
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args, result.exception)
        assert "Traceback" not in result.output and result.output.strip(), args
    from connector.db import Database

    with Database(f"sqlite:///{tmp_path / 'c.sqlite3'}").session() as db:
        assert db.scalars(select(Operator)).all() == []


def test_demo_refuses_a_public_url_before_touching_anything(tmp_path):
    import os
    import subprocess
    import sys

    database = tmp_path / "demo.sqlite3"
    env = {**os.environ, "PUBLIC_URL": "https://connector.partner.example",
           "DATABASE_URL": f"sqlite:///{database}", "LETTER_DIR": str(tmp_path / "letters")}
    done = subprocess.run([sys.executable, "-m", "connector.cli", "demo", "--port", "0",
                           "--emulator-port", "0", "--exact-port", "0"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "demo" in done.stderr
    assert not database.exists()  # nothing migrated, no operator password reset


# 14. The demo honours LETTER_DIR --------------------------------------------------------------

def test_the_demo_keeps_the_letter_dir_of_the_environment(tmp_path, monkeypatch):
    from connector.channels.twilio_emulator import TwilioEmulator
    from connector.config import load_settings
    from connector.demo import wire_demo

    monkeypatch.delenv("MONEYBIRD_BASE_URL", raising=False)
    monkeypatch.delenv("EXACT_ONLINE_BASE_URL", raising=False)
    own = tmp_path / "my-letters"
    settings = wire_demo(load_settings({"LETTER_DIR": str(own)}),
                         emulator_urls={"moneybird": "http://127.0.0.1:1",
                                        "exact_online": "http://127.0.0.1:2"},
                         smtp_port=25, twilio=TwilioEmulator(), twilio_url="http://127.0.0.1:3")
    assert settings.letter_dir == str(own)
    assert settings.ledger("moneybird")["MONEYBIRD_BASE_URL"] == "http://127.0.0.1:1"
    assert settings.ledger("exact_online")["EXACT_ONLINE_BASE_URL"] == "http://127.0.0.1:2"


# 13. Headers, /metrics, logs ------------------------------------------------------------------

def test_pages_carry_csp_and_frame_headers(services):
    browser = _operator_session(services)
    url = services.settings.public_url
    for page in (browser.get(f"{url}/companies/"), requests.get(f"{url}/login", timeout=30)):
        csp = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"


def test_no_template_relies_on_inline_script():
    """The CSP allows no inline script: confirmations come from static/confirm.js."""
    import re
    from pathlib import Path

    from connector import TEMPLATES

    for path in (Path(TEMPLATES) / "web").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), path


def test_metrics_want_the_token_when_one_is_set(make_services, moneybird_emulator):
    services = make_services(moneybird_emulator, metrics_token="s3cret-metrics-token")
    url = f"{services.settings.public_url}/metrics"
    assert requests.get(url, timeout=30).status_code == 401
    wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=30)
    assert wrong.status_code == 401
    right = requests.get(url, headers={"Authorization": "Bearer s3cret-metrics-token"},
                         timeout=30)
    assert right.status_code == 200 and "connector_" in right.text


def test_metrics_without_a_token_only_for_loopback(services):
    from connector.web.health import metrics_allowed

    assert metrics_allowed(None, "127.0.0.1", None) and metrics_allowed(None, "::1", None)
    assert not metrics_allowed(None, "203.0.113.7", None)
    assert not metrics_allowed("t" * 20, "127.0.0.1", None)
    assert metrics_allowed("t" * 20, "203.0.113.7", "Bearer " + "t" * 20)
    assert requests.get(f"{services.settings.public_url}/metrics", timeout=30).status_code == 200


def test_oauth_codes_stay_out_of_the_access_log(services, caplog):
    import logging

    caplog.set_level(logging.INFO)
    url = services.settings.public_url
    requests.get(f"{url}/oauth/moneybird/callback?code=SECRET-CODE-123&state=STATE-456",
                 timeout=30)
    requests.get(f"{url}/login?next=/x&token=TOKEN-789", timeout=30)
    text = caplog.text
    assert "/oauth/moneybird/callback" in text  # the line is there, the code is not
    assert "SECRET-CODE-123" not in text and "STATE-456" not in text and "TOKEN-789" not in text


def test_debtor_addresses_stay_out_of_the_smtp_log(caplog):
    import logging
    import smtplib

    from connector.channels.smtp_capture import CaptureSmtpServer

    caplog.set_level(logging.INFO)
    mail = CaptureSmtpServer()
    mail.start()
    try:
        with smtplib.SMTP("127.0.0.1", mail.port, timeout=30) as smtp:
            smtp.sendmail("herinneringen@partner.example", ["klant.jansen@voorbeeld.example"],
                          b"Subject: x\r\n\r\nhallo\r\n")
    finally:
        mail.stop()
    assert mail.messages
    assert "klant.jansen@voorbeeld.example" not in caplog.text


# 15. Lost answers come from fault injection, not from short timeouts ---------------------------

def test_a_lost_answer_is_provoked_whatever_the_timeout(services, moneybird_emulator):
    import time

    from tests.conftest import EMULATOR_TIMEOUT

    assert EMULATOR_TIMEOUT[1] >= 30  # slow answers on a loaded machine are no lost answers
    assert services.providers.get("moneybird").timeout == EMULATOR_TIMEOUT
    adm = moneybird_emulator.administration_ids()[0]
    invoice = moneybird_emulator.invoices(adm)[0]["id"]
    access, _refresh = moneybird_emulator.issue_token([adm])
    moneybird_emulator.inject_lost_answer("POST", "/notes")
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{moneybird_emulator.server.url}/api/v2/{adm}/sales_invoices/{invoice}"
                      "/notes.json", json={"note": {"note": "Verloren antwoord"}},
                      headers={"Authorization": f"Bearer {access}"}, timeout=EMULATOR_TIMEOUT)
    assert time.monotonic() - started < EMULATOR_TIMEOUT[1]
    notes = moneybird_emulator.notes(adm, invoice)
    assert any(n["note"] == "Verloren antwoord" for n in notes)  # processed, the answer lost


def test_gunicorn_access_atoms_are_redacted_too():
    import logging

    from connector.web.security import RedactSecrets

    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(q)s",
                               None, None)
    record.args = {"r": "GET /oauth/moneybird/callback?code=C0DE&state=S7 HTTP/1.1",
                   "q": "code=C0DE&state=S7", "s": "302"}
    RedactSecrets().filter(record)
    assert "C0DE" not in record.getMessage() and "S7" not in record.getMessage()


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_worker_and_serve_refuse_the_demo_secrets_with_a_message(tmp_path, command):
    from click.testing import CliRunner

    from connector.cli import main

    result = CliRunner().invoke(main, [command, "--wait-for-schema", "0"],
                                env={"DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
                                     "SECRET_KEY": "", "TOKEN_ENCRYPTION_KEYS": "",
                                     "PUBLIC_URL": "http://127.0.0.1:5000"})
    assert result.exit_code == 1 and "connector demo" in result.output
    assert "Traceback" not in result.output


def test_successful_sign_ins_do_not_use_up_the_client_limit(services):
    from connector.models import RateCall
    from connector.web import login_limits

    with services.db.session() as db:
        db.add(Operator(email="op@partner.example", password_hash=generate_password_hash(PASSWORD)))
    url = services.settings.public_url
    for _ in range(login_limits.MAX_PER_CLIENT + 2):
        s = requests.Session()
        done = s.post(f"{url}/login", data={"csrf_token": csrf_token(s.get(f"{url}/login").text),
                                            "email": "op@partner.example", "password": PASSWORD})
        assert done.url.endswith("/operator/"), done.status_code  # the console (#16)
    with services.db.session() as db:
        assert db.scalars(select(RateCall)).all() == []


def test_a_database_error_never_carries_the_values_into_a_log(services):
    """A crashed sync logs its exception; the statement's values are debtors' names and
    addresses, and must not be in it. (PostgreSQL's own DETAIL names the duplicate key's value,
    so the secret here is a value outside the key.)"""
    from sqlalchemy.exc import IntegrityError

    secret = "Jansen-debiteur-geheim"
    with pytest.raises(IntegrityError) as raised, services.db.session() as db:
        db.add(Operator(email="dubbel@example.nl", password_hash=secret))
        db.flush()
        db.add(Operator(email="dubbel@example.nl", password_hash=secret))
        db.flush()
    assert secret not in str(raised.value)
