"""``connector demo``: the whole product on one machine, on embedded defaults.

SQLite under instance/, the Moneybird emulator on loopback (seeded), the web app and the
background sync in this process. Nothing leaves the machine.
"""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.serving import run_simple

from connector import check_settings, create_app
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.channels.twilio_emulator import TwilioEmulator
from connector.config import Settings, load_settings
from connector.models import Operator
from connector.passwords import random_password
from connector.services import Services
from connector.worker import Worker

DEMO_OPERATOR = "operator@demo.example"


def run_demo(
    port: int = 5000, emulator_port: int = 5001, exact_port: int = 5002, seed: int = 1
) -> None:
    from providers.exact_online.emulator import ExactEmulator
    from providers.moneybird.emulator import MoneybirdEmulator

    public_url = os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{port}"
    # The demo may use the public demo secrets, on loopback only: refused here, before any
    # emulator starts or the database is migrated or the demo operator's password is reset.
    settings = load_settings().replace(public_url=public_url, allow_demo_secrets=True, demo=True)
    check_settings(settings)
    emulator = MoneybirdEmulator(
        seed=seed,
        client_id=settings.moneybird_client_id,
        client_secret=settings.moneybird_client_secret,
    )
    server = emulator.serve("127.0.0.1", emulator_port)
    exact = ExactEmulator(
        seed=seed,
        client_id=settings.exact_online_client_id,
        client_secret=settings.exact_online_client_secret,
        webhook_secret=settings.exact_online_webhook_secret,
    )
    exact_server = exact.serve("127.0.0.1", exact_port)
    # Mail and SMS stay on this machine: a capturing SMTP server and a Twilio emulator.
    mail = CaptureSmtpServer("127.0.0.1", 0)
    mail.start()
    twilio = TwilioEmulator()
    twilio_server = twilio.serve("127.0.0.1", 0)
    settings = wire_demo(settings, moneybird_url=server.url, exact_url=exact_server.url,
                         smtp_port=mail.port, twilio=twilio, twilio_url=twilio_server.url)
    services = Services.from_settings(settings)
    services.db.upgrade()
    password = _demo_operator(services)
    app = create_app(services=services)
    app.extensions["demo_mail"] = mail
    app.extensions["demo_sms"] = twilio
    worker = Worker(services, lease_ttl=timedelta(seconds=settings.lease_seconds))
    worker.start()

    print(f"""
  Pre-incasso connector — demo
  ────────────────────────────
  Open            {public_url}/
  Click           "Koppel Moneybird" or "Koppel Exact Online", approve in the emulator,
                  pick an administration; then look at the settings page.
  Operator login  {public_url}/login   {DEMO_OPERATOR} / {password or '(unchanged)'}
  Console         {public_url}/operator/   call list, print queue, approvals, problems,
                  search, partner identity (switch a company to live to fill them)
  Emulator views  {server.url}/_emulator/   Moneybird: our notes and payments; mark paid
                  {exact_server.url}/_emulator/   Exact Online: our notes; mark paid
  Sent mail, SMS  {public_url}/demo/messages   (nothing leaves this machine)
  Database        {settings.database_url}
  Stop with Ctrl-C.
""", flush=True)
    try:
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        worker.stop()
        server.shutdown()
        exact_server.shutdown()
        twilio_server.shutdown()
        mail.stop()


def wire_demo(settings: Settings, *, moneybird_url: str, exact_url: str, smtp_port: int,
              twilio: TwilioEmulator, twilio_url: str) -> Settings:
    """The demo's settings pointed at its local emulators. What the environment sets for the
    rest stays: LETTER_DIR above all, so two demos from one checkout keep two print queues."""
    return settings.replace(
        moneybird_base_url=os.environ.get("MONEYBIRD_BASE_URL") or moneybird_url,
        exact_online_base_url=os.environ.get("EXACT_ONLINE_BASE_URL") or exact_url,
        smtp_url=f"smtp://127.0.0.1:{smtp_port}",
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_from="+3197010000000",
        twilio_base_url=twilio_url,
    )


def _demo_operator(services: Services) -> str | None:
    """A demo operator with a fresh password each run (printed, never stored in clear)."""
    password = random_password()
    with services.db.session() as db:
        operator = db.scalars(select(Operator).where(Operator.email == DEMO_OPERATOR)).first()
        if operator is None:
            operator = Operator(email=DEMO_OPERATOR, password_hash="")
            db.add(operator)
        operator.password_hash = generate_password_hash(password)
    return password
