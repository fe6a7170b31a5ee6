"""Clocks: the system's, and a fixed one that tests and scenarios move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attrs import define, field

__all__ = ["FixedClock", "SystemClock"]


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


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
