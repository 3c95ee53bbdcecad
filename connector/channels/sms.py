"""SMS and WhatsApp through Twilio's Messages API.

Both are short nudges to the debtor's own mobile number (legal-nl §1.4: never the 14-day letter
itself). Numbers are normalised to E.164 and must be mobile; an SMS must fit one GSM-7 segment
(160 characters), so the debtor never gets a split or garbled text. WhatsApp messages started
by a business must use a template approved by Meta, so they go out as ``ContentSid`` plus
variables, not as free text. Twilio's own error texts echo the phone number, so errors carry
only the HTTP status and Twilio's error code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
import requests
from phonenumbers import PhoneNumberType

from connector.channels.base import ChannelRejected, ChannelUncertain, OutgoingMessage
from connector.formatting import money

log = logging.getLogger(__name__)

TWILIO_BASE_URL = "https://api.twilio.com"
SMS_MAX_SEPTETS = 160

# GSM 03.38 basic character set, and the extension table (each costs an escape + the char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class InvalidPhoneNumber(ChannelRejected):
    """Not a valid mobile number; nothing was sent."""


def normalize_mobile(number: str | None, region: str = "NL") -> str:
    """E.164 for a valid mobile number ("06 12345678" → "+31612345678"), else refuse.

    Regions where mobile and fixed numbers cannot be told apart (FIXED_LINE_OR_MOBILE, e.g. the
    US) are accepted; a Dutch landline is not.
    """
    if not number or not number.strip():
        raise InvalidPhoneNumber("geen telefoonnummer van de debiteur bekend")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("telefoonnummer van de debiteur is ongeldig") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("telefoonnummer van de debiteur is ongeldig")
    if phonenumbers.number_type(parsed) not in MOBILE_TYPES:
        raise InvalidPhoneNumber("telefoonnummer van de debiteur is geen mobiel nummer")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def gsm7_length(text: str) -> int | None:
    """Septets the text takes in GSM-7, or None if a character is outside GSM-7."""
    length = 0
    for ch in text:
        if ch in GSM7_BASIC:
            length += 1
        elif ch in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


def check_sms_body(text: str) -> str:
    """The body if it fits one plain GSM-7 SMS (160 septets); refuse it otherwise."""
    body = text.strip()
    if not body:
        raise ChannelRejected("sms-tekst is leeg")
    length = gsm7_length(body)
    if length is None:
        raise ChannelRejected("sms-tekst bevat tekens buiten de GSM-7-tekenset")
    if length > SMS_MAX_SEPTETS:
        raise ChannelRejected(f"sms-tekst is te lang ({length} > {SMS_MAX_SEPTETS} tekens)")
    return body


# -- signatures ---------------------------------------------------------------------------

Params = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


def _pairs(params: Params) -> list[tuple[str, str]]:
    """Every (key, value) pair: a form (werkzeug ``MultiDict``) gives all values of a repeated
    key, not only the first that ``items()`` would give."""
    getlist = getattr(params, "getlist", None)
    if callable(getlist) and isinstance(params, Mapping):
        return [(key, value) for key in params for value in getlist(key)]
    if isinstance(params, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in params.items():
            if isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, v) for v in value)
        return pairs
    return list(params)


def compute_twilio_signature(url: str, params: Params, auth_token: str) -> str:
    """Twilio's X-Twilio-Signature: base64(HMAC-SHA1(token, url + sorted key+value pairs)).

    As Twilio's RequestValidator: keys sorted, and for each key all its values sorted; a
    repeated identical key=value pair counts once.
    """
    data = url + "".join(k + v for k, v in sorted(set(_pairs(params))))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    # Twilio signs the URL as configured; proxies add or strip the default port, so accept both
    # (as Twilio's own RequestValidator does).
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if parts.hostname and default:
        host = parts.hostname
        if parts.port is None:
            variants.append(urlunsplit(parts._replace(netloc=f"{_userinfo(parts)}{host}:{default}")))
        elif parts.port == default:
            variants.append(urlunsplit(parts._replace(netloc=f"{_userinfo(parts)}{host}")))
    return variants


def _userinfo(parts: Any) -> str:
    if parts.username is None:
        return ""
    return f"{parts.username}:{parts.password}@" if parts.password else f"{parts.username}@"


def verify_twilio_signature(url: str, params: Params, signature: str | None, auth_token: str
                            ) -> bool:
    """True if ``signature`` is Twilio's for this full URL and these POST parameters."""
    if not signature or not auth_token:
        return False
    pairs = _pairs(params)
    given = signature.encode()
    return any(
        hmac.compare_digest(compute_twilio_signature(u, pairs, auth_token).encode(), given)
        for u in _url_variants(url)
    )


# -- the API client -----------------------------------------------------------------------


class TwilioClient:
    """The one call we need: create a Message. No retries: a resend could double a message."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str = TWILIO_BASE_URL,
        timeout: float = 15.0,
        session: requests.Session | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"TwilioClient(account_sid={self.account_sid!r}, base_url={self.base_url!r})"

    def create_message(self, params: Mapping[str, str]) -> dict[str, Any]:
        """POST …/Messages.json; map the outcome onto rejected / uncertain / the resource."""
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = self._session.post(url, data=dict(params), auth=self._auth,
                                          timeout=self.timeout)
        except requests.ConnectTimeout:
            raise ChannelRejected("Twilio niet bereikbaar (time-out bij verbinden)") from None
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                raise ChannelRejected("Twilio niet bereikbaar") from None
            raise ChannelUncertain("verbinding met Twilio verbroken; mogelijk verstuurd") from None
        except requests.Timeout:
            raise ChannelUncertain("geen antwoord van Twilio (time-out); mogelijk verstuurd"
                                   ) from None
        except requests.RequestException as exc:
            raise ChannelUncertain(f"fout bij Twilio ({type(exc).__name__}); mogelijk verstuurd"
                                   ) from None
        status = response.status_code
        if 400 <= status < 500:
            raise ChannelRejected(f"Twilio weigerde het bericht (HTTP {status}, code "
                                  f"{_error_code(response)})")
        if status >= 500:
            raise ChannelUncertain(f"Twilio-storing (HTTP {status}, code {_error_code(response)})"
                                   "; mogelijk verstuurd")
        try:
            resource = response.json()
            sid = resource["sid"]
        except (ValueError, KeyError, TypeError):
            raise ChannelUncertain("onverwacht antwoord van Twilio; mogelijk verstuurd") from None
        if not isinstance(sid, str) or not sid:
            raise ChannelUncertain("onverwacht antwoord van Twilio; mogelijk verstuurd")
        return resource


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the TCP connection was never made (so no request bytes left)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _error_code(response: requests.Response) -> str:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return "?"
    return str(code) if isinstance(code, int) else "?"


# -- the channels -------------------------------------------------------------------------


class SmsChannel:
    """A plain SMS with the engine's text; the reference is Twilio's message SID."""

    key = "sms"

    def __init__(
        self,
        client: TwilioClient,
        sender: str,
        *,
        region: str = "NL",
        status_callback: str | None = None,
    ) -> None:
        self.client = client
        self.sender = sender  # E.164 number, alphanumeric sender id, or a MessagingServiceSid
        self.region = region
        self.status_callback = status_callback

    def params(self, message: OutgoingMessage) -> dict[str, str]:
        """The form fields for Twilio (validated: mobile number, one GSM-7 segment)."""
        params = {"To": normalize_mobile(message.phone, self.region),
                  "Body": check_sms_body(message.body)}
        if self.sender.startswith("MG"):
            params["MessagingServiceSid"] = self.sender
        else:
            params["From"] = self.sender
        if self.status_callback:
            params["StatusCallback"] = self.status_callback
        return params

    def send(self, message: OutgoingMessage) -> str:
        resource = self.client.create_message(self.params(message))
        log.info("sms for delivery %s accepted by Twilio", message.delivery_id)
        return str(resource["sid"])


def default_whatsapp_variables(message: OutgoingMessage) -> dict[str, str]:
    """Variables of the approved template, mirroring templates/messages/whatsapp.txt.

    {{1}} recipient, {{2}} creditor, {{3}} total open, {{4}} number of invoices, {{5}} IBAN,
    {{6}} payment reference, {{7}} the debtor's page (its short link; the approved template
    should end with "Betalen of reageren: {{7}}").
    """
    return {
        "1": message.recipient_name,
        "2": message.creditor_name,
        "3": money(message.total),
        "4": str(len(message.invoices)),
        "5": message.extra.get("iban", ""),
        "6": message.extra.get("reference", ""),
        "7": message.extra.get("response_url", ""),
    }


class WhatsAppChannel:
    """WhatsApp through an approved content template (``ContentSid`` + ``ContentVariables``)."""

    key = "whatsapp"

    def __init__(
        self,
        client: TwilioClient,
        sender: str,
        content_sid: str,
        *,
        variables: Callable[[OutgoingMessage], Mapping[str, str]] = default_whatsapp_variables,
        region: str = "NL",
        status_callback: str | None = None,
    ) -> None:
        self.client = client
        self.sender = sender if sender.startswith(("whatsapp:", "MG")) else f"whatsapp:{sender}"
        self.content_sid = content_sid
        self.variables = variables
        self.region = region
        self.status_callback = status_callback

    def params(self, message: OutgoingMessage) -> dict[str, str]:
        params = {
            "To": "whatsapp:" + normalize_mobile(message.phone, self.region),
            "ContentSid": self.content_sid,
            "ContentVariables": json.dumps(dict(self.variables(message)), ensure_ascii=False),
        }
        if self.sender.startswith("MG"):
            params["MessagingServiceSid"] = self.sender
        else:
            params["From"] = self.sender
        if self.status_callback:
            params["StatusCallback"] = self.status_callback
        return params

    def send(self, message: OutgoingMessage) -> str:
        resource = self.client.create_message(self.params(message))
        log.info("whatsapp for delivery %s accepted by Twilio", message.delivery_id)
        return str(resource["sid"])
