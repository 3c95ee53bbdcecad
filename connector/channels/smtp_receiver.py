"""Receiving SMTP: aiosmtpd's threaded server, as the bounce listener runs it in production.

The bounce listener (:mod:`connector.bounces`) and the test capture server
(:mod:`connector.channels.smtp_capture`) both receive mail through :class:`SmtpReceiver`; the
capture builds on this module, never the other way round.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command line at INFO ("RCPT TO:<address>"): debtor data.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class SmtpReceiver(Controller):
    """aiosmtpd's Controller (a server on its own thread), where port 0 picks a free port and
    :attr:`port` then tells which one was taken."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


__all__ = ["SmtpReceiver"]
