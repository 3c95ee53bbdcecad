"""The suite's own clock: shifted into working hours, never the contact-hours rule lifted."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from connector.clock import AMSTERDAM
from connector.collection.legal import may_contact
from tests import working_hours
from tests.conftest import CLOCK_SHIFT_SECONDS
from tests.working_hours import shift_needed


def _amsterdam(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMSTERDAM).astimezone(UTC)


def test_a_working_morning_needs_no_shift_and_an_evening_moves_to_the_next_morning():
    assert shift_needed(_amsterdam(2026, 11, 27, 10, 0)) == timedelta(0)  # a Friday
    friday_evening = _amsterdam(2026, 11, 27, 21, 30)
    assert friday_evening + shift_needed(friday_evening) == _amsterdam(2026, 11, 30, 9, 0)
    early = _amsterdam(2026, 11, 26, 6, 0)
    assert early + shift_needed(early) == _amsterdam(2026, 11, 26, 9, 0)
    christmas = _amsterdam(2026, 12, 24, 18, 0)  # 25 and 26 December are holidays
    assert christmas + shift_needed(christmas) == _amsterdam(2026, 12, 28, 9, 0)


def test_this_process_and_its_children_run_in_contact_hours():
    assert may_contact(datetime.now(UTC))
    code = "from datetime import UTC, datetime; print(datetime.now(UTC).isoformat())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    child_now = datetime.fromisoformat(child.stdout.strip())
    assert abs((child_now - datetime.now(UTC)).total_seconds()) < 120
    assert CLOCK_SHIFT_SECONDS >= 0


def test_a_child_that_reads_its_clock_late_still_agrees_with_ours():
    """time-machine starts a ticking clock at its first reading; a worker that imports for a
    second before it reads the time must not run a second behind (×15 on an emulator's clock)."""
    code = ("import time, time_machine\n"
            "time.sleep(1.0)\n"
            "print(time.time() - time_machine.escape_hatch.time.time())")
    env = {**os.environ, working_hours.SHIFT_VARIABLE: "3600",
           "PYTHONPATH": f"{working_hours.SITE_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env)
    assert abs(float(child.stdout) - 3600) < 0.05
