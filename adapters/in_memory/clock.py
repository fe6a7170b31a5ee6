"""Clocks and timers that tests and scenarios move by hand (and the system's, re-exported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attrs import define, field

from adapters.system import SystemClock, SystemTimer

__all__ = ["FixedClock", "ManualTimer", "SystemClock", "SystemTimer"]


def _aware(_instance: object, _attribute: object, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("FixedClock needs a timezone-aware time")


@define
class FixedClock:
    """A clock that stands still until told to move."""

    current: datetime = field(
        factory=lambda: datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC), validator=_aware
    )

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta


@define
class ManualTimer:
    """A timer whose time moves only when slept on or advanced: waits cost nothing."""

    current: float = 0.0
    sleeps: list[float] = field(factory=list)

    def monotonic(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time ({seconds})")
        self.sleeps.append(seconds)
        self.current += seconds

    def advance(self, seconds: float) -> None:
        self.current += seconds
