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
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

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


def start() -> float:
    """Shift this process's clock when needed and tell child processes to do the same.
    Returns the shift in seconds (0: none). Called once, when the tests' conftest loads."""
    if SHIFT_VARIABLE in os.environ:  # a child process (or an xdist worker): already shifted
        return float(os.environ[SHIFT_VARIABLE])
    seconds = shift_needed(datetime.now(UTC)).total_seconds()
    os.environ[SHIFT_VARIABLE] = str(seconds)
    if seconds:
        _shifted(seconds)
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = f"{SITE_DIR}{os.pathsep}{path}" if path else str(SITE_DIR)
    return seconds


def _shifted(seconds: float) -> None:
    import time_machine

    travel = time_machine.travel(time.time() + seconds, tick=True)
    travel.start()
    # time-machine starts a ticking clock at its first reading, not at start(): a process that
    # first reads it after a second of imports would run a second behind the others (fifteen
    # on an emulator clock fifteen times as fast). Read it now.
    time.time()
