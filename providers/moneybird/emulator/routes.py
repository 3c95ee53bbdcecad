"""The API's route table: method, path pattern, handler, scopes, whether it runs locked."""

from __future__ import annotations

import re
from collections.abc import Callable

from providers.moneybird.emulator.common import CONTACT_SCOPES, Result


class Routes:
    """Mixin: the routes of /api/v2 (paths without ``.json``)."""

    def _routes(
        self,
    ) -> list[tuple[str, re.Pattern[str], Callable[..., Result], tuple[str, ...] | None, bool]]:
        """(method, path regex, handler, scopes (any of; None = any valid token), needs lock)."""
        si = ("sales_invoices",)
        st = ("settings",)
        table = [
            ("GET", r"administrations", self.h_administrations, None, True),
            ("GET", r"(?P<adm>[^/]+)/sales_invoices", self.h_invoices_list, si, True),
            (
                "GET",
                r"(?P<adm>[^/]+)/sales_invoices/synchronization",
                self.h_invoices_sync_list,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/synchronization",
                self.h_invoices_sync_fetch,
                si,
                True,
            ),
            ("GET", r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)", self.h_invoice_get, si, True),
            (
                "GET",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)/download_pdf",
                self.h_download_pdf,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/send_reminders",
                self.h_send_reminders,
                si,
                True,
            ),
            ("POST", r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)/pause", self.h_pause, si, True),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<id>[^/]+)/resume",
                self.h_resume,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/notes",
                self.h_note_create,
                si,
                True,
            ),
            (
                "DELETE",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/notes/(?P<id>[^/]+)",
                self.h_note_delete,
                si,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/payments",
                self.h_payment_create,
                si,
                True,
            ),
            (
                "DELETE",
                r"(?P<adm>[^/]+)/sales_invoices/(?P<sales_invoice_id>[^/]+)/payments/(?P<id>[^/]+)",
                self.h_payment_delete,
                si,
                True,
            ),
            (
                "GET",
                r"(?P<adm>[^/]+)/contacts/synchronization",
                self.h_contacts_sync_list,
                CONTACT_SCOPES,
                True,
            ),
            (
                "POST",
                r"(?P<adm>[^/]+)/contacts/synchronization",
                self.h_contacts_sync_fetch,
                CONTACT_SCOPES,
                True,
            ),
            (
                "GET",
                r"(?P<adm>[^/]+)/contacts/(?P<id>[^/]+)",
                self.h_contact_get,
                CONTACT_SCOPES,
                True,
            ),
            ("GET", r"(?P<adm>[^/]+)/financial_accounts", self.h_financial_accounts, st, True),
            ("GET", r"(?P<adm>[^/]+)/ledger_accounts", self.h_ledger_accounts, st, True),
            ("GET", r"(?P<adm>[^/]+)/webhooks", self.h_webhooks_list, st, True),
            ("POST", r"(?P<adm>[^/]+)/webhooks", self.h_webhook_create, st, False),
            ("DELETE", r"(?P<adm>[^/]+)/webhooks/(?P<id>[^/]+)", self.h_webhook_delete, st, True),
            (
                "PATCH",
                r"(?P<adm>[^/]+)/webhooks/(?P<id>[^/]+)/activate",
                self.h_webhook_activate,
                st,
                True,
            ),
            (
                "PATCH",
                r"(?P<adm>[^/]+)/webhooks/(?P<id>[^/]+)/deactivate",
                self.h_webhook_deactivate,
                st,
                True,
            ),
        ]
        return [(m, re.compile(p), h, s, lk) for m, p, h, s, lk in table]
