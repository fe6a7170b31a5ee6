"""The ports of a distributed sweep: its work queue, its run ledger, a table read by segment.

A run is planned as work items on a queue; a worker takes one item at a time. The ledger
counts a run's planned and finished items atomically, so that the worker that finishes the
last item knows the run is done and writes its summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Protocol

from attrs import field, frozen

from application.ports import UnreadableItem
from application.sweep_report import GroupKey
from domain.records import ExceptionRecord, RecordKey

__all__ = [
    "RunDelta",
    "RunLedger",
    "RunSummary",
    "RunTotals",
    "SegmentScan",
    "SweepWork",
    "WorkKind",
    "WorkQueue",
]


class WorkKind(Enum):
    SEGMENT = "segment"
    """Read one Scan segment of the table and plan its chunks."""
    CHUNK = "chunk"
    """Reconcile the records of one chunk of one group."""


@frozen
class SweepWork:
    """One work item of a run: a Scan segment to plan, or a chunk of one group to reconcile."""

    run_id: str
    item_id: str
    kind: WorkKind
    dry_run: bool
    total_segments: int = 1
    segment: int = 0
    group: GroupKey | None = None
    keys: tuple[RecordKey, ...] = ()
    accounts: frozenset[str] | None = None
    regions: frozenset[str] | None = None

    @property
    def lane(self) -> str:
        """Items of one lane are worked one at a time: a chunk's account and region (AWS
        Config's limits are per account and region), a segment's own id."""
        if self.group is not None:
            return f"{self.group.account_id}#{self.group.region}"
        return f"{self.run_id}#{self.item_id}"


class WorkQueue(Protocol):
    """Where a run's work items wait for a worker (an SQS queue with a DLQ in AWS)."""

    def send(self, items: Sequence[SweepWork]) -> None: ...


@frozen
class RunDelta:
    """What one finished work item adds to its run."""

    counts: Mapping[str, int] = field(factory=dict)
    """Records per outcome (`SweepOutcome` values)."""
    config_calls: int = 0
    records_read: int = 0
    """Items read: a segment's Scan, a chunk's reads of its records again."""
    records_scanned: int = 0
    """Of those, the open records a segment's Scan read (each table record once a run)."""


@frozen
class RunTotals:
    """A run's counters as one atomic update left them."""

    run_id: str
    started_at: datetime
    dry_run: bool
    planned: int
    finished: int
    failures: int
    config_calls: int
    records_read: int
    counts: Mapping[str, int]
    records_scanned: int = 0

    @property
    def done(self) -> bool:
        return self.finished >= self.planned


@frozen
class RunSummary:
    """What a finished run did: counts per outcome, unknown types, failures, duration."""

    run_id: str
    dry_run: bool
    work_items: int
    failures: int
    config_calls: int
    records_read: int
    counts: Mapping[str, int]
    started_at: datetime
    finished_at: datetime
    records_scanned: int = 0
    segments: int = 0
    """Of `work_items`, the Scan segments; the others are chunks of groups."""

    @property
    def chunks(self) -> int:
        return self.work_items - self.segments

    @property
    def unknown_types(self) -> int:
        return self.counts.get("unknown-type", 0)

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


class RunLedger(Protocol):
    """A run's planned and finished work items, counted atomically (never in the exceptions)."""

    def open(self, run_id: str, started_at: datetime, dry_run: bool, planned: int) -> None:
        """Start a run with ``planned`` items; a second open of the same run changes nothing."""
        ...

    def plan(self, run_id: str, item_id: str, children: int) -> int:
        """Add ``children`` items planned by ``item_id``, once: return the count that stands.

        A retried item that plans again gets the count of its first plan, and must put
        exactly that many items on the queue (the same ids), so the run's total holds.
        """
        ...

    def finish(self, run_id: str, item_id: str, delta: RunDelta) -> RunTotals | None:
        """Count ``item_id`` finished and add its delta, once; None if it was counted before."""
        ...

    def fail(self, run_id: str, item_id: str, reason: str) -> None:
        """Count one failed attempt of ``item_id`` (the item goes back on the queue)."""
        ...

    def close(self, summary: RunSummary) -> bool:
        """Keep the run's summary; True only for the first caller (who reports it)."""
        ...

    def totals(self, run_id: str) -> RunTotals | None:
        """The run's counters now, or None for a run never opened."""
        ...


class SegmentScan(Protocol):
    """The open records of one segment of a parallel Scan (`Segment`/`TotalSegments`)."""

    def scan_open_segment(
        self,
        segment: int,
        total_segments: int,
        page_size: int = 100,
        on_unreadable: Callable[[UnreadableItem], None] | None = None,
    ) -> Iterator[ExceptionRecord]: ...
