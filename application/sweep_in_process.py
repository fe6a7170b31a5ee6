"""A distributed run's plan, worked in one process: `elm reconcile`.

The planner and the workers are the deployed sweep's own (`StartSweep`, `SweepWorker`): the
same Scan segments, chunks, matching, scope, dry run, History and conditional writes. Only
the queue differs: here it is a list this process works through, segments first, then the
chunks in group order (from ``--resume-from`` on, wrapping around), each once. The run's
counts go through a ledger as in AWS, and the report is the sweep's report: the per-record
notes of every item, merged.

Bounded like every sweep: the budget stops the run before a Config call, never between a
call and its writes; the chunks not reached are counted `not-reached` and the report names
the group to resume from. A failed item is not retried here (its records count `failed`
and the exit status says so); the next run, or the deployed queue, retries it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from attrs import evolve, field, frozen

from application.ports import Clock, ExceptionStore, Timer, UnreadableItem
from application.reconcile import Reconcile
from application.sweep_plan import resume_order
from application.sweep_report import (
    GroupKey,
    NoProgress,
    SweepOutcome,
    SweepProgress,
    SweepReport,
    SweepRequest,
    SweepStop,
    Tally,
)
from application.sweep_run import RunSettings, StartSweep, SweepWorker, WorkFailed
from application.sweep_run_ports import (
    RunDelta,
    RunLedger,
    RunSummary,
    RunTotals,
    SegmentScan,
    SweepWork,
    WorkKind,
)
from domain.records import ExceptionRecord

__all__ = ["SweepInProcess", "WholeTable"]


class _Ledger:
    """A run counted in this process, that no one else follows: the ledger port on a dict."""

    def __init__(self) -> None:
        self._planned = 0
        self._finished: set[str] = set()
        self._plans: dict[str, int] = {}
        self._totals: RunTotals | None = None

    def open(self, run_id: str, started_at: datetime, dry_run: bool, planned: int) -> None:
        self._planned = planned
        self._totals = RunTotals(run_id, started_at, dry_run, planned, 0, 0, 0, 0, {})

    def plan(self, run_id: str, item_id: str, children: int) -> int:
        if item_id not in self._plans:
            self._plans[item_id] = children
            self._planned += children
        return self._plans[item_id]

    def finish(self, run_id: str, item_id: str, delta: RunDelta) -> RunTotals | None:
        if item_id in self._finished or self._totals is None:
            return None
        self._finished.add(item_id)
        self._totals = evolve(self._totals, planned=self._planned, finished=len(self._finished))
        return self._totals

    def fail(self, run_id: str, item_id: str, reason: str) -> None:
        return None

    def close(self, summary: RunSummary) -> bool:
        return True

    def totals(self, run_id: str) -> RunTotals | None:
        return self._totals


class WholeTable:
    """Any exception store as a one-segment parallel Scan: its paginated Scan of open records."""

    def __init__(self, store: ExceptionStore) -> None:
        self._store = store

    def scan_open_segment(
        self,
        segment: int,
        total_segments: int,
        page_size: int = 100,
        on_unreadable: Callable[[UnreadableItem], None] | None = None,
    ) -> Iterator[ExceptionRecord]:
        if (segment, total_segments) != (0, 1):
            raise ValueError(f"the whole table is one segment (not {segment} of {total_segments})")
        return self._store.scan_open(page_size, on_unreadable)


class _Pending:
    """The work queue as a list: what the planner and segment items put on it, in order."""

    def __init__(self) -> None:
        self.items: list[SweepWork] = []

    def send(self, items: Sequence[SweepWork]) -> None:
        self.items.extend(items)

    def take(self, kind: WorkKind) -> list[SweepWork]:
        taken = [i for i in self.items if i.kind is kind]
        self.items = [i for i in self.items if i.kind is not kind]
        return taken


@frozen
class SweepInProcess:
    """Run one sweep as a distributed run's plan, in this process; report as a sweep does."""

    sweep: Reconcile
    table: SegmentScan
    clock: Clock
    timer: Timer
    settings: RunSettings = field(factory=lambda: RunSettings(segments=1))
    """One Scan segment by default: one process reads the table once, and no group is cut
    into more chunks (and Config calls) than its size needs."""
    ledger: RunLedger = field(factory=_Ledger)

    def execute(
        self, request: SweepRequest | None = None, progress: SweepProgress | None = None
    ) -> SweepReport:
        """Plan, work every item once, and report; never raises for a failed item."""
        request = request or SweepRequest()
        progress = progress or NoProgress()
        dry_run = self.sweep.policy.dry_run if request.dry_run is None else request.dry_run
        run_id = request.run_id or f"reconcile-{self.clock.now():%Y%m%dT%H%M%SZ}"
        budget = request.budget_seconds or self.sweep.limits.budget_seconds
        deadline = self.timer.monotonic() + budget
        # The run's events are the sweep's: published once, from the merged report.
        quiet = evolve(self.sweep, publish=None)
        pending = _Pending()
        worker = SweepWorker(quiet, self.table, self.ledger, pending, self.clock, self.settings)
        StartSweep(self.ledger, pending, self.clock, self.settings).execute(
            evolve(request, run_id=run_id), dry_run
        )

        tally = Tally()
        scanned = 0
        scan_failures: list[str] = []
        for segment in pending.take(WorkKind.SEGMENT):
            try:
                scanned += _merge(tally, worker.execute(segment).tally)
            except WorkFailed as error:
                _merge(tally, error.tally)
                scan_failures.append(str(error))

        chunks = _in_group_order(pending.take(WorkKind.CHUNK), request.resume_from)
        progress.start(sum(len(c.keys) for c in chunks))
        stopped: SweepStop | None = None
        for index, chunk in enumerate(chunks):
            if self.timer.monotonic() >= deadline:
                stopped = SweepStop("budget spent", chunk.group, scanned)
                for later in chunks[index:]:
                    _not_reached(tally, later)
                break
            try:
                _merge(tally, worker.execute(chunk, deadline=deadline, progress=progress).tally)
            except WorkFailed as error:
                _merge(tally, error.tally)
                if error.tally.counts[SweepOutcome.NOT_REACHED]:
                    stopped = SweepStop("budget spent", chunk.group, scanned)
                    for later in chunks[index + 1 :]:
                        _not_reached(tally, later)
                    break

        report = SweepReport(
            run_id=run_id,
            dry_run=dry_run,
            records_scanned=scanned,
            groups=len({c.group for c in chunks}),
            config_calls=tally.config_calls,
            counts=dict(tally.counts),
            per_account={a: dict(c) for a, c in sorted(tally.per_account.items())},
            changes=tuple(tally.changes),
            unresolved=tuple(tally.unresolved),
            failures=tuple(tally.failures),
            stopped=stopped,
            scan_failure="; ".join(scan_failures) or None,
            name_calls=tally.name_calls,
            expiring=tuple(tally.expiring),
            unreadable=tuple(tally.unreadable),
        )
        if self.sweep.publish is None:
            return report
        announced = self.sweep.publish.sweep(report)
        return evolve(report, events=announced.events, publish_failures=announced.failures)


def _in_group_order(chunks: list[SweepWork], resume_from: GroupKey | None) -> list[SweepWork]:
    """The chunks by group, from ``resume_from`` on and then the groups before it."""
    order = resume_order(sorted({c.group for c in chunks if c.group is not None}), resume_from)
    rank = {group: position for position, group in enumerate(order)}
    return sorted(chunks, key=lambda c: rank.get(c.group, -1) if c.group else -1)


def _not_reached(tally: Tally, chunk: SweepWork) -> None:
    tally.counts[SweepOutcome.NOT_REACHED] += len(chunk.keys)
    for key in chunk.keys:
        account = tally.per_account.setdefault(key.account_id, Counter())
        account[SweepOutcome.NOT_REACHED] += 1


def _merge(into: Tally, item: Tally) -> int:
    """Add one item's account to the run's; return the records its Scan segment read."""
    into.counts.update(item.counts)
    for account, counts in item.per_account.items():
        into.per_account.setdefault(account, Counter()).update(counts)
    into.changes.extend(item.changes)
    into.unresolved.extend(item.unresolved)
    into.failures.extend(item.failures)
    into.expiring.extend(item.expiring)
    into.unreadable.extend(item.unreadable)
    into.config_calls += item.config_calls
    into.name_calls += item.name_calls
    return item.scanned
