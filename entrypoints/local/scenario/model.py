"""What a scenario file holds, once validated: the values `elm simulate` and `elm local` run."""

from __future__ import annotations

from datetime import UTC, datetime

from attrs import frozen

from application.reconcile import SweepOutcome
from domain.outcomes import Outcome
from domain.records import ExceptionRecord
from domain.rules import Rule
from entrypoints.composition.settings import Settings

__all__ = [
    "DEFAULT_START",
    "Deletion",
    "InventoryResource",
    "Scenario",
    "ScenarioError",
    "ScenarioEvent",
    "SweepStep",
]

DEFAULT_START = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
"""When the first event of a scenario arrives, unless `settings.start_time` says otherwise."""


class ScenarioError(ValueError):
    """The scenario file cannot be used; the message is one line naming the file and the path."""


@frozen
class InventoryResource:
    """A resource AWS Config knows in a target account: existing, or deleted."""

    account_id: str
    region: str
    resource_type: str
    resource_id: str
    name: str | None = None
    deleted: bool = False


@frozen
class Deletion:
    """What a short-form ``delete`` event does to the simulated inventory before it is sent."""

    account_id: str
    region: str
    resource_type: str
    resource_id: str
    name: str | None = None


@frozen
class ScenarioEvent:
    """One event of the scenario: the SQS message body ELM receives, and what is expected."""

    label: str
    body: str
    deletion: Deletion | None = None
    expect: Outcome | None = None
    note: str | None = None


@frozen
class SweepStep:
    """The reconciliation sweep run after the events, and the counts it must report."""

    expect: tuple[tuple[SweepOutcome, int], ...] | None = None
    note: str | None = None


@frozen
class Scenario:
    """A whole scenario, validated: everything `elm simulate` needs to run it."""

    source: str
    settings: Settings
    start: datetime
    rules: tuple[Rule, ...]
    exceptions: tuple[ExceptionRecord, ...]
    resources: tuple[InventoryResource, ...]
    failing_accounts: tuple[tuple[str, str], ...]
    events: tuple[ScenarioEvent, ...]
    description: str | None = None
    sweep: SweepStep | None = None
