"""Xero: the accounting API of one organisation through the Ledger contract."""

from providers.xero.provider import XeroProvider

__all__ = ["XeroProvider"]
