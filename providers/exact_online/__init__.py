"""Exact Online (exactonline.nl and the other country hosts): REST API over OAuth2."""

from __future__ import annotations

from providers.exact_online.provider import ExactOnlineProvider

__all__ = ["ExactOnlineProvider"]
