"""Answers of SnelStart's API gateway (Azure API Management) that are not the API's own.

The gateway checks our subscription key and the subscription's limits before a call reaches
SnelStart, and answers in its own shape (``{"statusCode": …, "message": …}``). Two of those
answers must not be read as the creditor's fault: a refused subscription key (a 401, our
setting) and a spent quota (a 403, a wait). Neither is documented by SnelStart (UNCERTAIN); the
messages are API Management's standard ones.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import requests

from providers.base import RateLimited, ReconnectRequired, Transient
from providers.http import utcnow

QUOTA_WAIT = re.compile(r"replenished in (\d+):(\d{2}):(\d{2})")
DEFAULT_QUOTA_WAIT = timedelta(minutes=5)


def _message(response: requests.Response) -> str:
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        return ""
    return message if isinstance(message, str) else ""


def interpret_401(response: requests.Response) -> ReconnectRequired | None:
    """A refused *subscription key* is ours to fix (SNELSTART_SUBSCRIPTION_KEY): no token
    refresh, no reconnect for the creditor; the call waits (nothing was processed)."""
    if "subscription key" in _message(response).lower():
        raise Transient("SnelStart refused our subscription key (SNELSTART_SUBSCRIPTION_KEY)")
    return None


def observe_quota(response: requests.Response) -> datetime | None:
    """A 403 "Out of call volume quota. Quota will be replenished in 00:05:00." is a wait, not a
    missing permission: raise :class:`RateLimited` until the quota is back."""
    if response.status_code != 403:
        return None
    message = _message(response)
    if "quota" not in message.lower():
        return None
    match = QUOTA_WAIT.search(message)
    wait = (timedelta(hours=int(match[1]), minutes=int(match[2]), seconds=int(match[3]))
            if match else DEFAULT_QUOTA_WAIT)
    raise RateLimited("SnelStart call quota used up", retry_at=utcnow() + wait)
