"""``connector demo``: the whole product on one machine, on embedded defaults.

SQLite under instance/, every ledger's emulator on loopback (seeded, see each plug-in's
DemoHook), the web app and the background sync in this process. Nothing leaves the machine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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


def run_demo(port: int = 5000, emulator_ports: Mapping[str, int] | None = None,
             seed: int = 1) -> None:
    """``emulator_ports``: plug-in key → port of its emulator (default: the plug-in's own)."""
    public_url = os.environ.get("PUBLIC_URL") or f"http://127.0.0.1:{port}"
    # The demo may use the public demo secrets, on loopback only: refused here, before any
    # emulator starts or the database is migrated or the demo operator's password is reset.
    settings = load_settings().replace(public_url=public_url, allow_demo_secrets=True, demo=True)
    check_settings(settings)
    ports = emulator_ports or {}
    emulators = {
        plugin.key: plugin.demo.start(settings.ledger(plugin.key), "127.0.0.1",
                                      ports.get(plugin.key, plugin.demo.default_port), seed)
        for plugin in settings.plugins if plugin.demo is not None}
    # Mail and SMS stay on this machine: a capturing SMTP server and a Twilio emulator.
    mail = CaptureSmtpServer("127.0.0.1", 0)
    mail.start()
    twilio = TwilioEmulator()
    twilio_server = twilio.serve("127.0.0.1", 0)
    settings = wire_demo(settings, emulator_urls={k: e.url for k, e in emulators.items()},
                         smtp_port=mail.port, twilio=twilio, twilio_url=twilio_server.url)
    services = Services.from_settings(settings)
    services.db.upgrade()
    password = _demo_operator(services)
    app = create_app(services=services)
    app.extensions["demo_mail"] = mail
    app.extensions["demo_sms"] = twilio
    worker = Worker(services, lease_ttl=timedelta(seconds=settings.lease_seconds))
    worker.start()

    connect = " or ".join(f'"Koppel {p.display_name}"' for p in settings.plugins)
    views = "\n                  ".join(
        f"{emulators[p.key].url}{p.demo.views_hint}" for p in settings.plugins
        if p.demo is not None)
    print(f"""
  Pre-incasso connector — demo
  ────────────────────────────
  Open            {public_url}/
  Click           {connect}, approve in the emulator,
                  pick an administration; then look at the settings page.
  Operator login  {public_url}/login   {DEMO_OPERATOR} / {password or '(unchanged)'}
  Console         {public_url}/operator/   call list, print queue, approvals, problems,
                  search, partner identity (switch a company to live to fill them)
  Emulator views  {views}
  Sent mail, SMS  {public_url}/demo/messages   (nothing leaves this machine)
  Database        {settings.database_url}
  Stop with Ctrl-C.
""", flush=True)
    try:
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        worker.stop()
        for emulator in emulators.values():
            emulator.shutdown()
        twilio_server.shutdown()
        mail.stop()


def wire_demo(settings: Settings, *, emulator_urls: Mapping[str, str], smtp_port: int,
              twilio: TwilioEmulator, twilio_url: str) -> Settings:
    """The demo's settings pointed at its local emulators (plug-in key → URL). What the
    environment sets for the rest stays: a ledger's base URL set in the environment, and
    LETTER_DIR above all, so two demos from one checkout keep two print queues."""
    for plugin in settings.plugins:
        if plugin.demo is not None and plugin.key in emulator_urls:
            setting = plugin.demo.base_url_setting
            url = os.environ.get(setting) or emulator_urls[plugin.key]
            settings = settings.with_ledger(plugin.key, **{setting: url})
    return settings.replace(
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
