"""How far one reconciliation sweep may go.

Apart from `application.reconcile` (which re-exports it) because the settings hold it, and
the event Lambda reads the settings but never sweeps: it need not build the sweep's classes.
"""

from __future__ import annotations

from attrs import field, frozen

__all__ = ["SweepLimits", "positive"]


def positive(_instance: object, attribute: object, value: float) -> None:
    """An attrs validator: the setting must be above zero; the message names it."""
    if value <= 0:
        name = getattr(attribute, "name", "value")
        raise ValueError(f"{name} must be positive (got {value})")


_positive = positive


@frozen
class SweepLimits:
    """How far one sweep may go: Scan page size, Config calls a second per account, budget."""

    page_size: int = field(default=100, validator=_positive)
    max_calls_per_second: float = field(default=2.0, validator=_positive)
    budget_seconds: float = field(default=600.0, validator=_positive)
