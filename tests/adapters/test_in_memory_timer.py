"""The manual timer twin: time moves only when slept on or advanced."""

from __future__ import annotations

import pytest

from adapters.in_memory import ManualTimer


def test_sleeping_moves_the_time_and_is_recorded() -> None:
    timer = ManualTimer(current=10.0)

    timer.sleep(0.5)
    timer.advance(2.0)

    assert timer.monotonic() == 12.5
    assert timer.sleeps == [0.5]


def test_a_negative_sleep_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ManualTimer().sleep(-1.0)
