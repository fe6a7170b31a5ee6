"""The system's clock and timer: the real `Clock` and `Timer` behind the AWS wiring.

Kept apart from the in-memory twins so that the Lambda, which needs only these two,
does not import every twin with them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["SystemClock", "SystemTimer"]


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemTimer:
    """The process's monotonic clock, and real waiting."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
