"""The emulator kit: the parts every platform emulator needs, written once.

A platform emulator (``providers/<name>/emulator/``) is an in-memory ledger behind a Flask app
that speaks the platform's API and OAuth. What is the same for every platform lives here;
what differs (paths, bodies, token formats, limits) stays in the platform's package and is
handed to the kit as parameters.

Modules and their public API:

- ``server``: ``EmulatorServer(emulator, host, port, name)`` serves ``emulator.app`` on loopback
  in a daemon thread (``.url``, ``.shutdown()`` also calls ``emulator.close()``); the ``Serves``
  mixin gives ``serve(host, port)``; ``run_exchange_hook`` hands each API exchange to the test's
  contract checker; ``serve_until_interrupted`` is the CLI loop and ``run_cli`` the whole CLI
  entry (register a fixed token, serve, print the banner); ``drop_connection``.
- ``base``: ``KitEmulator``, the mixin with the state every emulator keeps (``init_kit``: lock,
  call log, faults, server, exchange hook) and ``hook_exchanges(app, applies)``.
- ``consent``: ``ConsentEndpoint``, the mixin with the client/redirect checks
  (``refused_consent_request``) and the consent POST (``oauth_authorize_post``); the platform
  gives its messages, ``consent_field``, ``consent_choices`` and ``issue_consent_code``.
- ``faults``: ``Faults`` holds injected faults with one semantics (method equal, path contains,
  at most ``times`` uses, oldest first): ``error``/``delay``/``lost``, ``take(kind, method,
  path)`` and ``after_processing(method, path, environ)``. ``FaultInjection`` is the mixin with
  the public ``inject_error``/``inject_delay``/``inject_lost_answer``.
- ``calls``: ``CallLog`` (``record``, ``count(method, path_contains, **fields)``, ``clear``);
  publish ``call_log.records`` as the emulator's ``calls``.
- ``ratelimit``: ``Window(limit, seconds, aligned)`` and ``RateLimiter.take(key, now, windows)``
  returning a ``Verdict`` (``allowed``, ``states`` with ``remaining``/``reset``, ``exceeded``).
  Moneybird: ``Window(150, 300)``; Exact: ``Window(5000, 86400, True), Window(60, 60, True)``.
- ``webhooks``: ``WebhookSender(name, lock, max_retries=, retry_base_delay=, accept=)`` pushes
  in a background thread with retries; ``push(url, body, record, headers=, sign=,
  on_result=)``, ``probe(url)`` (the platform's URL check), ``wait_idle``, ``close``.
  ``DeliversWebhooks`` is the mixin with ``wait_for_deliveries`` and the retry knobs.
- ``oauth``: ``consent_page``, ``error_page``, ``redirect_with``, ``client_credentials``,
  ``client_is``, ``oauth_json``, ``bearer_value``; ``CodeStore`` (single-use codes:
  ``issue``/``redeem``); ``TokenStore(now, rotate_refresh=, revoke_previous_access=,
  access_value=, refresh_value=)`` with ``grant``, ``issue``, ``refresh``, ``access_token``,
  ``refresh_token``, ``revoke_all``, ``expire_access``.
- ``html``: ``html_page``, ``page_response``, ``table``, ``bullet_list``, ``escape``.

A new emulator, in short::

    import threading
    import time
    import flask
    from providers.emulator_kit.calls import CallLog
    from providers.emulator_kit.faults import FaultInjection, Faults
    from providers.emulator_kit.ratelimit import RateLimiter, Window
    from providers.emulator_kit.server import Serves
    from providers.emulator_kit.webhooks import DeliversWebhooks, WebhookSender

    class XeroEmulator(FaultInjection, DeliversWebhooks, Serves):
        server_name = "xero-emulator"

        def __init__(self) -> None:
            self._lock = threading.RLock()
            self.public_url = self.server = None
            self.call_log, self.faults, self._rate = CallLog(), Faults(), RateLimiter()
            self.calls = self.call_log.records
            self.webhooks = WebhookSender("xero-webhooks", self._lock)
            self.app = flask.Flask("xero")
            self.app.add_url_rule("/api/<path:rest>", "api", self._api, methods=["GET", "POST"])

        def _api(self, rest: str) -> flask.Response:
            req = flask.request
            if (fault := self.faults.take("error", req.method, req.path)) is not None:
                return flask.Response(status=fault.status)
            verdict = self._rate.take("tenant", time.time(), (Window(60, 60, aligned=True),))
            if not verdict.allowed:
                return flask.Response(status=429)
            resp = flask.jsonify(...)  # the platform's own answer
            self.call_log.record({"method": req.method, "path": req.path, "status": 200})
            self.faults.after_processing(req.method, req.path, req.environ)
            return resp

        def close(self) -> None:
            self.webhooks.close()

    server = XeroEmulator().serve()   # server.url; server.shutdown() when done
"""

from __future__ import annotations

from providers.emulator_kit.calls import CallLog
from providers.emulator_kit.faults import LOST_ANSWER, Fault, FaultInjection, Faults, fault_kind
from providers.emulator_kit.html import html_page, page_response
from providers.emulator_kit.oauth import CodeStore, TokenStore, consent_page, redirect_with
from providers.emulator_kit.ratelimit import RateLimiter, Verdict, Window
from providers.emulator_kit.server import EmulatorServer, Serves, drop_connection
from providers.emulator_kit.webhooks import DeliversWebhooks, DeliveryQueue, WebhookSender

__all__ = [
    "LOST_ANSWER",
    "CallLog",
    "CodeStore",
    "DeliversWebhooks",
    "DeliveryQueue",
    "EmulatorServer",
    "Fault",
    "FaultInjection",
    "Faults",
    "RateLimiter",
    "Serves",
    "TokenStore",
    "Verdict",
    "WebhookSender",
    "Window",
    "consent_page",
    "drop_connection",
    "fault_kind",
    "html_page",
    "page_response",
    "redirect_with",
]
