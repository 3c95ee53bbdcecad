"""Injected faults: answer an error without processing, hold the answer back, or lose it.

One semantics for every emulator: a fault fires for a request whose method matches and whose
path contains ``path_contains``, at most ``times`` times (at least once), oldest fault first;
a spent fault is gone. Errors are taken before the request is processed; delays and lost
answers after it (the ledger changed, the client does not hear about it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from providers.emulator_kit.server import drop_connection

LOST_ANSWER = -1  # a fault's status for "processed, then the connection dropped: no answer"


def fault_kind(status: int) -> str:
    """What an injected fault does: hold the answer back, lose it, or answer an error."""
    return "delay" if status == 0 else "lost" if status == LOST_ANSWER else "error"


@dataclass
class Fault:
    method: str
    path_contains: str
    times: int
    seconds: float = 0.0
    status: int = 500
    body: Any = None

    @property
    def kind(self) -> str:
        return fault_kind(self.status)


class Faults:
    """The pending faults of one emulator (thread-safe on their own lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.times < 1:
            raise ValueError("a fault fires at least once (times >= 1)")
        fault.method = fault.method.upper()
        with self._lock:
            self._faults.append(fault)
        return fault

    def error(
        self, method: str, path_contains: str, status: int = 500, times: int = 1, body: Any = None
    ) -> Fault:
        return self.add(Fault(method, path_contains, times, status=status, body=body))

    def delay(self, method: str, path_contains: str, seconds: float, times: int = 1) -> Fault:
        return self.add(Fault(method, path_contains, times, seconds=seconds, status=0))

    def lost(self, method: str, path_contains: str, times: int = 1) -> Fault:
        return self.add(Fault(method, path_contains, times, status=LOST_ANSWER))

    def take(self, kind: str, method: str, path: str) -> Fault | None:
        """The oldest live fault of ``kind`` matching the request, with one use spent."""
        with self._lock:
            for fault in self._faults:
                if (
                    fault.kind == kind
                    and fault.times > 0
                    and fault.method == method
                    and fault.path_contains in path
                ):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def after_processing(self, method: str, path: str, environ: dict[str, Any]) -> None:
        """Apply a delay and/or a lost answer to a processed request (call before answering)."""
        delay = self.take("delay", method, path)
        lost = self.take("lost", method, path)
        if delay is not None:
            time.sleep(delay.seconds)
        if lost is not None:
            drop_connection(environ)

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class FaultInjection:
    """Mixin: the emulators' public fault API over ``self.faults``."""

    faults: Faults

    def inject_delay(self, method: str, path_contains: str, seconds: float, times: int = 1) -> None:
        """Process matching requests normally, then hold the response back ``seconds``."""
        self.faults.delay(method, path_contains, seconds, times)

    def inject_lost_answer(self, method: str, path_contains: str, times: int = 1) -> None:
        """Process matching requests normally, then drop the connection: the answer is lost
        (a timeout or a cut line), whatever timeout the client uses."""
        self.faults.lost(method, path_contains, times)

    def inject_error(
        self, method: str, path_contains: str, status: int = 500, times: int = 1, body: Any = None
    ) -> None:
        """Answer matching requests with ``status`` WITHOUT processing them."""
        self.faults.error(method, path_contains, status, times, body)
