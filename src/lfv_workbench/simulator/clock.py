"""The simulator's virtual clock.

Virtual time is an offset in seconds from the scenario's ``start_time``.  Wall time moves it
``speed`` times as fast (``speed=0`` freezes it); ``advance`` and ``set`` move it by hand.  It
never goes backwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

DEFAULT_START_TIME = datetime(2026, 11, 1, tzinfo=UTC)


class ClockError(ValueError):
    """A clock request that would move time backwards or is not a number."""


class VirtualClock:
    def __init__(
        self,
        *,
        speed: float = 1.0,
        start_time: datetime = DEFAULT_START_TIME,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ClockError(f"speed must be >= 0, got {speed}")
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._speed = float(speed)
        self._start_time = start_time
        self._offset = 0.0
        self._wall = monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def start_time(self) -> datetime:
        return self._start_time

    def _rebase(self) -> None:
        wall = self._monotonic()
        self._offset += (wall - self._wall) * self._speed
        self._wall = wall

    def now(self) -> float:
        """Virtual seconds since ``start_time``."""
        with self._lock:
            return self._offset + (self._monotonic() - self._wall) * self._speed

    def epoch(self, offset: float | None = None) -> float:
        """Epoch seconds of ``offset`` (default: now), to the millisecond."""
        at = self.now() if offset is None else offset
        return round(self._start_time.timestamp() + at, 3)

    def iso(self, offset: float | None = None) -> str:
        at = self.now() if offset is None else offset
        moment = self._start_time + timedelta(seconds=at)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ClockError(f"advance must be >= 0 seconds (time never goes back), got {seconds}")
        with self._lock:
            self._rebase()
            self._offset += seconds
            return self._offset

    def set(self, offset: float) -> float:
        """Jump to ``offset``; refuses to go backwards."""
        with self._lock:
            self._rebase()
            if offset < self._offset:
                raise ClockError(
                    f"set: {offset} is before the current offset {self._offset:.3f} "
                    "(time never goes back)"
                )
            self._offset = float(offset)
            return self._offset

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ClockError(f"speed must be >= 0, got {speed}")
        with self._lock:
            self._rebase()
            self._speed = float(speed)

    def reset(self, start_time: datetime) -> None:
        """Back to offset 0 at a new ``start_time`` (loading a scenario)."""
        with self._lock:
            self._start_time = start_time
            self._offset = 0.0
            self._wall = self._monotonic()
