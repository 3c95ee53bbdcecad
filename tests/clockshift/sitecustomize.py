"""Loaded by every Python process the tests start (PYTHONPATH): the test clock's shift.

See tests/working_hours.py. A process without time-machine (an installed wheel's own venv)
runs on the real clock.
"""

import os
import time

_shift = float(os.environ.get("TEST_CLOCK_SHIFT_SECONDS") or 0)
if _shift:
    try:
        import time_machine
    except ImportError:
        pass
    else:
        time_machine.travel(time.time() + _shift, tick=True).start()
        time.time()  # a ticking travel's clock starts at its first reading: read it now
