"""In-memory twins of the distributed sweep's ports: a work queue and a run ledger.

The queue behaves as an SQS FIFO queue does for a worker: a received item is hidden until
it is deleted or released (a failure, or its visibility timeout after a worker was killed),
then comes back; after `max_receives` it moves to the dead-letter list. Items of one lane
(an account and region) are handed out one at a time, as a FIFO queue's message group is.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from attrs import define, field

from application.sweep_run_ports import RunDelta, RunSummary, RunTotals, SweepWork

__all__ = ["InMemoryRunLedger", "InMemoryWorkQueue", "Received"]


@define(frozen=True)
class Received:
    receipt: int
    item: SweepWork
    receive_count: int


@define
class InMemoryWorkQueue:
    """A FIFO-ish queue with receipts, redelivery and a dead-letter list."""

    max_receives: int = 3
    _ready: list[tuple[SweepWork, int]] = field(factory=list)
    _in_flight: dict[int, tuple[SweepWork, int]] = field(factory=dict)
    dead: list[SweepWork] = field(factory=list)
    sent_batches: list[int] = field(factory=list)
    _receipts: itertools.count[int] = field(factory=itertools.count)
    _lock: threading.Lock = field(factory=threading.Lock)

    def send(self, items: Sequence[SweepWork]) -> None:
        with self._lock:
            for start in range(0, len(items), 10):
                batch = items[start : start + 10]
                self.sent_batches.append(len(batch))
                self._ready.extend((item, 0) for item in batch)

    def receive(self) -> Received | None:
        with self._lock:
            busy = {item.lane for item, _ in self._in_flight.values()}
            index = next((i for i, (w, _) in enumerate(self._ready) if w.lane not in busy), None)
            if index is None:
                return None
            item, count = self._ready.pop(index)
            receipt = next(self._receipts)
            self._in_flight[receipt] = (item, count + 1)
            return Received(receipt, item, count + 1)

    def delete(self, receipt: int) -> None:
        with self._lock:
            del self._in_flight[receipt]

    def release(self, receipt: int) -> None:
        """Give the item back (a failure, or a visibility timeout), or dead-letter it."""
        with self._lock:
            item, count = self._in_flight.pop(receipt)
            if count >= self.max_receives:
                self.dead.append(item)
            else:
                self._ready.append((item, count))

    def __len__(self) -> int:
        return len(self._ready) + len(self._in_flight)


@define
class _Run:
    started_at: datetime
    dry_run: bool
    planned: int
    finished: int = 0
    failures: int = 0
    config_calls: int = 0
    records_read: int = 0
    records_scanned: int = 0
    counts: Counter[str] = field(factory=Counter)
    planners: dict[str, int] = field(factory=dict)
    done_items: set[str] = field(factory=set)
    summary: RunSummary | None = None


@define
class InMemoryRunLedger:
    """Run counters behind one lock: each call is atomic, as one DynamoDB update is."""

    _runs: dict[str, _Run] = field(factory=dict)
    _lock: threading.Lock = field(factory=threading.Lock)

    def open(self, run_id: str, started_at: datetime, dry_run: bool, planned: int) -> None:
        with self._lock:
            self._runs.setdefault(run_id, _Run(started_at, dry_run, planned))

    def plan(self, run_id: str, item_id: str, children: int) -> int:
        with self._lock:
            run = self._runs[run_id]
            if item_id not in run.planners:
                run.planners[item_id] = children
                run.planned += children
            return run.planners[item_id]

    def finish(self, run_id: str, item_id: str, delta: RunDelta) -> RunTotals | None:
        with self._lock:
            run = self._runs[run_id]
            if item_id in run.done_items:
                return None
            run.done_items.add(item_id)
            run.finished += 1
            run.config_calls += delta.config_calls
            run.records_read += delta.records_read
            run.records_scanned += delta.records_scanned
            run.counts.update(delta.counts)
            return self._totals(run_id, run)

    def fail(self, run_id: str, item_id: str, reason: str) -> None:
        with self._lock:
            self._runs[run_id].failures += 1

    def close(self, summary: RunSummary) -> bool:
        with self._lock:
            run = self._runs[summary.run_id]
            if run.summary is not None:
                return False
            run.summary = summary
            return True

    def totals(self, run_id: str) -> RunTotals | None:
        with self._lock:
            run = self._runs.get(run_id)
            return None if run is None else self._totals(run_id, run)

    def summary(self, run_id: str) -> RunSummary | None:
        with self._lock:
            run = self._runs.get(run_id)
            return None if run is None else run.summary

    @staticmethod
    def _totals(run_id: str, run: _Run) -> RunTotals:
        return RunTotals(
            run_id,
            run.started_at,
            run.dry_run,
            run.planned,
            run.finished,
            run.failures,
            run.config_calls,
            run.records_read,
            dict(run.counts),
            run.records_scanned,
        )
