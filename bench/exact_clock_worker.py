"""``connector worker`` whose token clock runs as fast as the Exact emulator's clock.

Scaling time for Exact means running the emulator's clock faster (its minute is then a few real
seconds). Access tokens then also expire after 600 *emulator* seconds, so the worker must judge
token age on that clock too, or it would use expired tokens (tests/exact_token_worker.py does
the same in-process). Only the bench and tests use this; production runs ``connector worker``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from connector import tokens
from connector.cli import main

if __name__ == "__main__":
    start = datetime.fromisoformat(os.environ["EXACT_CLOCK_START"])
    speed = float(os.environ["EXACT_CLOCK_SPEED"])
    tokens.clock = lambda: start + (datetime.now(UTC) - start) * speed
    main(["worker"])
