"""Moneybird (moneybird.com): REST API v2 over OAuth2."""

from __future__ import annotations

from providers.moneybird.provider import MoneybirdProvider

__all__ = ["MoneybirdProvider"]
