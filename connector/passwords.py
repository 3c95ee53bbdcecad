"""Random passwords for operator accounts made by the CLI and the demo.

Its own module so that ``demo`` does not import ``cli`` (which imports ``demo``).
"""

from __future__ import annotations

import secrets

__all__ = ["random_password"]


def random_password() -> str:
    """A fresh password of 16 URL-safe characters (printed once, stored only as a hash)."""
    return secrets.token_urlsafe(12)
