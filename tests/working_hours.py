"""The suite runs in working hours, whenever it is started.

Steps go out to debtors only 07:00–20:00 Amsterdam time on contact days (Bki; a legal limit no
test may lift), and many tests send. Started in the evening, at night or at a weekend, the suite
would find nothing may go out. So it moves its clock, never the rule: when the real moment is
not a weekday morning or afternoon, every test process and every Python process it starts run
on a clock shifted to 09:00 of the next working day, ticking at the normal speed
(time-machine; child processes through ``tests/clockshift/sitecustomize.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from connector.clock import AMSTERDAM
from connector.collection.legal.calendar_nl import is_working_day

SHIFT_VARIABLE = "TEST_CLOCK_SHIFT_SECONDS"
SITE_DIR = Path(__file__).resolve().parent / "clockshift"
# Working hours with hours of margin before 20:00, for a suite (and CI) that runs long.
FROM, UNTIL = clock_time(8, 0), clock_time(16, 0)


def shift_needed(now: datetime) -> timedelta:
    """How far to move ``now`` so it falls in working hours (nothing when it does)."""
    local = now.astimezone(AMSTERDAM)
    if is_working_day(local.date()) and FROM <= local.time() < UNTIL:
        return timedelta(0)
    day = local.date() if local.time() < FROM else local.date() + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, clock_time(9, 0), AMSTERDAM) - local


_travel: Any = None  # this process's own time-machine travel, when it started one


def start() -> float:
    """Shift this process's clock when needed and tell child processes to do the same.
    Returns the shift in seconds (0: none). Called once, when the tests' conftest loads."""
    global _travel
    if SHIFT_VARIABLE in os.environ:  # a child process (or an xdist worker): already shifted
        return float(os.environ[SHIFT_VARIABLE])
    seconds = shift_needed(datetime.now(UTC)).total_seconds()
    os.environ[SHIFT_VARIABLE] = str(seconds)
    if seconds:
        _travel = _shifted(seconds)
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = f"{SITE_DIR}{os.pathsep}{path}" if path else str(SITE_DIR)
    return seconds


def _shifted(seconds: float) -> Any:
    import time_machine

    travel = time_machine.travel(time.time() + seconds, tick=True)
    travel.start()
    return travel


@contextmanager
def real_clock() -> Iterator[None]:
    """The real clock for one test and its child processes (marker ``real_clock``): for tests
    that send nothing and race an accelerated emulator clock, where the shifted clock's extra
    work per reading on a busy machine let a 1.5-second token expire in flight."""
    global _travel
    seconds = float(os.environ.get(SHIFT_VARIABLE) or 0)
    if _travel is None:  # an xdist worker: shifted at start-up by the sitecustomize
        import sys

        _travel = getattr(sys.modules.get("sitecustomize"), "travel", None)
    if not seconds or _travel is None:
        yield
        return
    _travel.stop()
    os.environ[SHIFT_VARIABLE] = "0"
    try:
        yield
    finally:
        os.environ[SHIFT_VARIABLE] = str(seconds)
        _travel = _shifted(seconds)
