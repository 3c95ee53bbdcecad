"""Exact Online has one host per country; tokens from one host do not work on another."""

from __future__ import annotations

from providers.base import UnknownRegion

HOSTS = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "uk": "https://start.exactonline.co.uk",
    "fr": "https://start.exactonline.fr",
    "es": "https://start.exactonline.es",
    "us": "https://start.exactonline.com",
}
LABELS = {
    "nl": "Nederland", "be": "België", "de": "Duitsland", "uk": "Verenigd Koninkrijk",
    "fr": "Frankrijk", "es": "Spanje", "us": "Verenigde Staten",
}
DEFAULT = "nl"

__all__ = ["DEFAULT", "HOSTS", "LABELS", "UnknownRegion", "host"]


def host(region: str, override: str | None = None) -> str:
    """The base URL of a region; ``override`` (the emulator) serves every region."""
    if region not in HOSTS:
        raise UnknownRegion(f"unknown Exact Online region {region!r}")
    return (override or HOSTS[region]).rstrip("/")
