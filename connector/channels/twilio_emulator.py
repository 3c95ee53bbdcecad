"""A loopback emulator of Twilio's Messages API, for the tests and the demo.

Same path, basic auth, form fields, error JSON (``code``/``message``/``more_info``/``status``)
and message resources as api.twilio.com, and status callbacks signed with
``X-Twilio-Signature`` — so the SMS/WhatsApp channels run unchanged against it. Faults can be
injected: an error before processing, or (``accepted=True``) after the message was accepted,
the case where the sender cannot know whether it went out.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import flask
import phonenumbers
import requests

from connector.channels.sms import MOBILE_TYPES, compute_twilio_signature
from providers.emulator_server import EmulatorServer

DEMO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEMO_AUTH_TOKEN = "demo-twilio-auth-token"  # noqa: S105 - public demo value, loopback only
API_VERSION = "2010-04-01"
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


def _error(code: int, message: str, status: int) -> tuple[flask.Response, int]:
    body = {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    return flask.jsonify(body), status


@dataclass
class _Fault:
    status: int
    code: int
    message: str
    times: int
    accepted: bool
    delay: float


class TwilioEmulator:
    """Twilio's ``Messages`` resource in memory. Thread-safe (one lock)."""

    def __init__(
        self,
        account_sid: str = DEMO_ACCOUNT_SID,
        auth_token: str = DEMO_AUTH_TOKEN,
        *,
        callback_statuses: tuple[str, ...] = ("sent", "delivered"),
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callback_statuses = callback_statuses
        self.messages: list[dict[str, Any]] = []
        self.callbacks: list[dict[str, Any]] = []  # what was posted, and the answer
        # Extra (key, value) pairs posted with every status callback; a key may repeat, as in
        # Twilio's real callbacks, and is signed the way Twilio's RequestValidator checks it.
        self.callback_extra: list[tuple[str, str]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._jobs: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._deliver_callbacks, name="twilio-callbacks",
                                        daemon=True)
        self._worker.start()
        self.server: EmulatorServer | None = None
        self.app = self._build_app()

    # -- control surface -------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        self.server = EmulatorServer(self, host, port, "twilio-emulator")
        return self.server

    def close(self) -> None:
        self._jobs.put(None)
        self._worker.join(timeout=5)

    def inject_error(self, status: int = 500, code: int | None = None, message: str | None = None,
                     *, times: int = 1, accepted: bool = False, delay: float = 0.0) -> None:
        """Answer the next ``times`` create calls with an error.

        ``accepted=True`` stores (and "sends") the message first, then answers with the error;
        ``delay`` holds the answer back that many seconds (to provoke client time-outs).
        """
        default_code = 20500 if status >= 500 else 21211
        with self._lock:
            self._faults.append(_Fault(status, code or default_code,
                                       message or ("Internal Server Error" if status >= 500
                                                   else "Invalid 'To' Phone Number"),
                                       times, accepted, delay))

    def message(self, sid: str) -> dict[str, Any] | None:
        with self._lock:
            return next((dict(m) for m in self.messages if m["sid"] == sid), None)

    # -- the API ---------------------------------------------------------------------------

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(__name__)
        base = f"/{API_VERSION}/Accounts/<account_sid>/Messages"

        @app.post(f"{base}.json")
        def create(account_sid: str) -> Any:
            denied = self._check_auth(account_sid)
            if denied:
                return denied
            fault = self._take_fault()
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and not fault.accepted:
                return _error(fault.code, fault.message, fault.status)
            form = flask.request.form
            problem = self._validate(form)
            if problem:
                return problem
            resource = self._store(account_sid, form)
            if fault:
                return _error(fault.code, fault.message, fault.status)
            return flask.jsonify(resource), 201

        @app.get(f"{base}/<sid>.json")
        def fetch(account_sid: str, sid: str) -> Any:
            denied = self._check_auth(account_sid)
            if denied:
                return denied
            found = self.message(sid)
            if found is None:
                return _error(20404, f"The requested resource /{API_VERSION}/Accounts/"
                              f"{account_sid}/Messages/{sid}.json was not found", 404)
            return flask.jsonify(found)

        return app

    def _check_auth(self, account_sid: str) -> tuple[flask.Response, int] | None:
        auth = flask.request.authorization
        if (auth is None or auth.username != self.account_sid
                or not secrets.compare_digest(auth.password or "", self.auth_token)
                or account_sid != self.account_sid):
            response, status = _error(20003, "Authenticate", 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response, status
        return None

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _validate(self, form: Any) -> tuple[flask.Response, int] | None:
        to, sender = form.get("To", ""), form.get("From", "")
        service = form.get("MessagingServiceSid", "")
        if not to:
            return _error(21604, "A 'To' phone number is required.", 400)
        if not sender and not service:
            return _error(21603, "A 'From' phone number is required.", 400)
        if service and not SERVICE_SID.match(service):
            return _error(21701, "The Messaging Service Sid " + service + " is invalid.", 400)
        whatsapp = to.startswith("whatsapp:")
        if sender and whatsapp != sender.startswith("whatsapp:"):
            return _error(21910, "Invalid From and To pair. From and To should be of the same "
                          "channel.", 400)
        number = to.removeprefix("whatsapp:")
        if not self._e164(number):
            return _error(21211, f"Invalid 'To' Phone Number: {number}", 400)
        if not self._mobile(number):
            return _error(21614, f"'To' number {number} is not a valid mobile number", 400)
        raw_from = sender.removeprefix("whatsapp:")
        if sender and not (self._e164(raw_from) or (not whatsapp and ALPHANUMERIC.match(sender))):
            return _error(21212, f"Invalid From Number (caller ID): {raw_from}", 400)
        body, content = form.get("Body", ""), form.get("ContentSid", "")
        if content:
            if not CONTENT_SID.match(content):
                return _error(21655, "The ContentSid is Invalid.", 400)
            try:
                variables = json.loads(form.get("ContentVariables", "{}"))
                if not isinstance(variables, dict):
                    raise ValueError
            except ValueError:
                return _error(21656, "The ContentVariables Parameter is invalid.", 400)
        elif not body:
            return _error(21602, "Message body is required.", 400)
        elif whatsapp:
            # Business-initiated WhatsApp outside a 24-hour session needs an approved template.
            return _error(63016, "Failed to send freeform message because you are outside the "
                          "allowed window. Please use a Template.", 400)
        if len(body) > 1600:
            return _error(21617, "The concatenated message body exceeds the 1600 character "
                          "limit.", 400)
        callback = form.get("StatusCallback", "")
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            return _error(21609, "Invalid StatusCallback", 400)
        return None

    @staticmethod
    def _e164(number: str) -> bool:
        if not number.startswith("+"):
            return False
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            return False

    @staticmethod
    def _mobile(number: str) -> bool:
        return phonenumbers.number_type(phonenumbers.parse(number, None)) in MOBILE_TYPES

    def _store(self, account_sid: str, form: Any) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC))
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"
        body = form.get("Body", "")
        resource: dict[str, Any] = {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 160))) if body else "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json",
            },
            "to": form["To"],
            "uri": uri,
        }
        record = dict(resource)
        record["content_sid"] = form.get("ContentSid") or None
        record["content_variables"] = form.get("ContentVariables") or None
        with self._lock:
            self.messages.append(record)
        callback = form.get("StatusCallback")
        if callback:
            for status in self.callback_statuses:
                params = {
                    "AccountSid": account_sid, "ApiVersion": API_VERSION,
                    "From": form.get("From", ""), "To": form["To"], "MessageSid": sid,
                    "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                }
                self._jobs.put((callback, params))
        return resource

    def _deliver_callbacks(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            url, params = job
            posted = [*params.items(), *self.callback_extra]
            signature = compute_twilio_signature(url, posted, self.auth_token)
            with self._lock:
                for m in self.messages:
                    if m["sid"] == params["MessageSid"]:
                        m["status"] = params["MessageStatus"]
            try:
                answer: int | str = requests.post(
                    url, data=posted, headers={"X-Twilio-Signature": signature,
                                               "User-Agent": "TwilioProxy/1.1"}, timeout=5
                ).status_code
            except requests.RequestException as exc:
                answer = type(exc).__name__
            with self._lock:
                self.callbacks.append({"url": url, "params": params, "signature": signature,
                                       "answer": answer})


def basic_auth_header(account_sid: str, auth_token: str) -> str:
    """An ``Authorization`` header value, for hand-made requests in tests."""
    raw = f"{account_sid}:{auth_token}".encode()
    return "Basic " + base64.b64encode(raw).decode()
