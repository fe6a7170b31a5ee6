"""What a reconciliation sweep reports: outcomes per record, groups, failures, where it stopped.

Shared by the in-process sweep and whatever runs a planned work item, so that every way of
sweeping counts and names records the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from enum import Enum
from typing import Protocol

from attrs import define, field, frozen

from application.ports import ElmEvent, PublishFailure, UnreadableItem
from domain.events import is_account_id, is_region_name
from domain.records import ExceptionRecord, RecordKey

__all__ = [
    "ExpiringRecord",
    "GroupFailure",
    "GroupKey",
    "NoProgress",
    "RecordNote",
    "SweepOutcome",
    "SweepProgress",
    "SweepReport",
    "SweepRequest",
    "SweepStop",
    "Tally",
]


class SweepOutcome(Enum):
    """What the sweep did with one open record."""

    CLOSED = "closed"
    MEMBER_DELETED = "member-deleted"
    NOT_CONFIRMED = "not-confirmed"
    DUPLICATE = "duplicate"
    UNKNOWN_TYPE = "unknown-type"
    UNKNOWN_RULE = "unknown-rule"
    BAD_KEY = "bad-key"
    REJECTED = "rejected"
    FAILED = "failed"
    NOT_REACHED = "not-reached"
    OUT_OF_SCOPE = "out-of-scope"
    """The record's rule lacks this environment's prefix (ELM_RULE_PREFIX): not this sweep's."""


@frozen(order=True)
class GroupKey:
    """The records one Config call can ask about: one account, region and resource type."""

    account_id: str
    region: str
    resource_type: str

    @property
    def cursor(self) -> str:
        """The group as `--resume-from` takes it: ``account/region/type``."""
        return f"{self.account_id}/{self.region}/{self.resource_type}"

    @classmethod
    def from_cursor(cls, text: str) -> GroupKey:
        """Parse ``account/region/type``; raise ValueError with a one-line reason."""
        parts = text.strip().split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"resume cursor must be ACCOUNT/REGION/TYPE (got {text!r})")
        account_id, region, resource_type = parts
        if not is_account_id(account_id):
            raise ValueError(f"resume cursor account must be 12 digits (got {account_id!r})")
        if not is_region_name(region):
            raise ValueError(f"resume cursor region is not a region name (got {region!r})")
        return cls(account_id, region, resource_type)


@frozen
class SweepRequest:
    """One run's scope: accounts and regions (None: all), dry run, budget, where to resume."""

    run_id: str | None = None
    accounts: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    dry_run: bool | None = None
    budget_seconds: float | None = None
    resume_from: GroupKey | None = None


@frozen
class RecordNote:
    """One record the report names: what the sweep changed, or could not ask about."""

    record_key: RecordKey
    region: str
    outcome: SweepOutcome
    reason: str
    members: tuple[str, ...] = ()
    rule_name: str | None = None
    resource_type: str | None = None
    """The rule and the resource type of a change (what ELM's own events name)."""


@frozen
class ExpiringRecord:
    """An open record that carries a `TTL`: DynamoDB deletes it when that time passes.

    ELM sets `TTL` only when it closes a record, so an open one with a TTL was re-opened by
    hand without removing it (`elm exceptions reopen` removes it).
    """

    record_key: RecordKey
    region: str
    ttl: int


@frozen
class GroupFailure:
    """A group whose Config call or write failed; its unsettled records are counted `failed`."""

    group: GroupKey
    reason: str
    records: int


@frozen
class SweepStop:
    """Where a sweep stopped when its budget ran out."""

    reason: str
    resume_from: GroupKey | None
    records_scanned: int


@frozen
class SweepReport:
    """The result of one sweep; `config_calls` counts every Config call, by ID and by name."""

    run_id: str
    dry_run: bool
    records_scanned: int
    groups: int
    config_calls: int
    counts: Mapping[SweepOutcome, int]
    per_account: Mapping[str, Mapping[SweepOutcome, int]]
    changes: tuple[RecordNote, ...]
    unresolved: tuple[RecordNote, ...]
    failures: tuple[GroupFailure, ...]
    stopped: SweepStop | None
    scan_failure: str | None = None
    name_calls: int = 0
    """Of `config_calls`, those asking by name (one a name), not by up to 20 IDs."""
    expiring: tuple[ExpiringRecord, ...] = ()
    """Open records in scope that DynamoDB will delete: they carry a `TTL`."""
    unreadable: tuple[UnreadableItem, ...] = ()
    """Items the scan could not read as records: skipped, each named with its reason."""
    events: tuple[ElmEvent, ...] = ()
    """ELM's own events about this run, handed to the bus once it finished."""
    publish_failures: tuple[PublishFailure, ...] = ()
    """Of `events`, those the bus did not take (logged and counted, never a failed sweep)."""

    @property
    def complete(self) -> bool:
        """True when the whole table was read and every group in scope was asked about."""
        return self.stopped is None and self.scan_failure is None

    @property
    def failed(self) -> bool:
        """True when a group or the table scan failed: something is left to retry."""
        return bool(self.failures) or self.scan_failure is not None

    def count(self, outcome: SweepOutcome) -> int:
        return self.counts.get(outcome, 0)


class SweepProgress(Protocol):
    """Told how many records the sweep will ask about, then as they are settled."""

    def start(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class NoProgress:
    """Progress reporting that reports nothing."""

    def start(self, total: int) -> None:
        return None

    def advance(self, count: int) -> None:
        return None


@define
class Tally:
    """What one run has done so far."""

    counts: Counter[SweepOutcome] = field(factory=Counter)
    per_account: dict[str, Counter[SweepOutcome]] = field(factory=dict)
    changes: list[RecordNote] = field(factory=list)
    unresolved: list[RecordNote] = field(factory=list)
    failures: list[GroupFailure] = field(factory=list)
    expiring: list[ExpiringRecord] = field(factory=list)
    unreadable: list[UnreadableItem] = field(factory=list)
    config_calls: int = 0
    name_calls: int = 0
    scanned: int = 0
    """Records a distributed run's Scan segment read (the in-process walk counts its own)."""

    def add(self, record: ExceptionRecord, outcome: SweepOutcome) -> None:
        self.counts[outcome] += 1
        self.per_account.setdefault(record.account_id, Counter())[outcome] += 1

    def note(self, record: ExceptionRecord, outcome: SweepOutcome, reason: str) -> None:
        self.add(record, outcome)
        self.unresolved.append(RecordNote(record.record_key, record.region, outcome, reason))
