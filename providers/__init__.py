"""Bookkeeping platforms behind one Ledger contract (see providers.base).

Nothing in this package imports from ``connector``.
"""

from __future__ import annotations
