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
from tests.helpers import csrf_token
from tests.test_web import PASSWORD, _operator_session
from tests.test_web_templates import _company

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
