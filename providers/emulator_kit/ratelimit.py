"""Fixed rate-limit windows; each platform's own rules are parameters.

Moneybird: 150 calls per 5 minutes per administration, the window opening at the first call
(``Window(150, 300)``). Exact Online: 60 per clock minute and 5,000 per UTC day per division
(``Window(5000, 86400, aligned=True), Window(60, 60, aligned=True)``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """``limit`` calls per ``seconds``. ``aligned``: windows start at multiples of ``seconds``
    since the epoch (clock minutes, UTC days); else the first call opens a window."""

    limit: int
    seconds: int
    aligned: bool = False


@dataclass(frozen=True)
class WindowState:
    window: Window
    used: int  # calls counted in the current window (this one included if allowed)
    reset: int  # epoch seconds when the window closes

    @property
    def remaining(self) -> int:
        return max(0, self.window.limit - self.used)


@dataclass(frozen=True)
class Verdict:
    states: tuple[WindowState, ...]  # in the order the windows were given
    exceeded: WindowState | None  # the first full window; the call was not counted

    @property
    def allowed(self) -> bool:
        return self.exceeded is None


class RateLimiter:
    """Counters per (key, window). Not thread-safe: call under the emulator's lock."""

    def __init__(self) -> None:
        self._counters: dict[tuple[Hashable, Window], list[float]] = {}

    def take(self, key: Hashable, now: float, windows: Sequence[Window]) -> Verdict:
        """Count one call against every window, unless one of them is full (then none)."""
        counters = [self._counter(key, now, w) for w in windows]
        states = [WindowState(w, int(c[1]), int(c[0] + w.seconds)) for w, c in zip(
            windows, counters, strict=True)]
        for state in states:
            if state.used >= state.window.limit:
                return Verdict(tuple(states), state)
        for counter in counters:
            counter[1] += 1
        return Verdict(
            tuple(WindowState(s.window, s.used + 1, s.reset) for s in states), None
        )

    def _counter(self, key: Hashable, now: float, window: Window) -> list[float]:
        counter = self._counters.get((key, window))
        start = now // window.seconds * window.seconds if window.aligned else now
        if counter is None or now >= counter[0] + window.seconds or (
                window.aligned and counter[0] != start):
            counter = [start, 0]
            self._counters[(key, window)] = counter
        return counter

    def reset(self) -> None:
        self._counters.clear()
