"""A channel that records messages instead of transmitting them.

Used by the demo and the tests, and for every form whose real transport is not built yet
(the channels issue brings SMTP, the print queue and the SMS/WhatsApp gateway): the message,
exactly as it would have gone out, is kept in the delivery row and listed on the company page.
"""

from __future__ import annotations

import threading

from connector.channels.base import OutgoingMessage


class CaptureChannel:
    def __init__(self, key: str) -> None:
        self.key = key
        self.sent: list[OutgoingMessage] = []
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> str:
        with self._lock:
            self.sent.append(message)
        return f"capture:{message.delivery_id}"

