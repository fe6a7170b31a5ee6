"""The distributed sweep: a planner puts a run's work items on a queue; workers settle them.

The planner opens a run in the ledger with one work item per Scan segment and puts those on
the queue. A segment's worker reads its part of the table, groups the open records as the
in-process sweep does (`Reconcile.classify`: scope, `ELM_RULE_PREFIX`, unknown types listed),
and plans one chunk item per `chunk_records` records of each group. A chunk's worker reads
its records again, consistently and 100 a call (`ExceptionStore.get_many`), and confirms
and settles them through `Reconcile.sweep_items`: the same Config calls, History and
conditional writes as every sweep. No cursor is kept: what is not done is still on the queue.

A failed item raises `WorkFailed` and is not counted: the queue gives it back, and after its
retries moves it to the DLQ. Counting is once per item id, so a redelivered item that was
already finished changes nothing, and a record settled by a killed attempt is read closed by
the retry and not written again. The worker that finishes the run's last item writes the
summary.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

from attrs import field, frozen

from application.announce import Announcement
from application.errors import RecordFormatError, TransientError
from application.ports import Clock, ExceptionStore, RuleCatalog
from application.reconcile import Reconcile
from application.sweep_limits import positive
from application.sweep_plan import WorkItem
from application.sweep_report import GroupKey, SweepOutcome, SweepProgress, SweepRequest, Tally
from application.sweep_run_ports import (
    RunDelta,
    RunLedger,
    RunSummary,
    SegmentScan,
    SweepWork,
    WorkKind,
    WorkQueue,
)
from domain.lifecycle import Trigger

__all__ = [
    "MAX_CHUNK_KEY_BYTES",
    "RunSettings",
    "StartSweep",
    "SweepWorker",
    "WorkFailed",
    "WorkResult",
    "split",
]

_T = TypeVar("_T")

MAX_CHUNK_KEY_BYTES = 192 * 1024
"""The most a chunk's keys may take, so that its item fits one queue message with room to
spare: SQS takes at most 256 KiB a message and a `SendMessageBatch` call ("SendMessageBatch",
Amazon SQS API Reference), and one key may be up to 1 KiB (DynamoDB's sort key limit)."""
_KEY_OVERHEAD = 40  # the account, rule id and JSON punctuation each key carries


def _fitted(piece: list[WorkItem]) -> list[list[WorkItem]]:
    """``piece`` as is, or cut where its keys would not fit one message."""
    out: list[list[WorkItem]] = [[]]
    size = 0
    for work in piece:
        cost = len(work.record.record_key.key.encode()) + _KEY_OVERHEAD
        if out[-1] and size + cost > MAX_CHUNK_KEY_BYTES:
            out.append([])
            size = 0
        out[-1].append(work)
        size += cost
    return out


def _recut(
    pieces: Sequence[tuple[GroupKey, list[WorkItem]]], count: int
) -> list[tuple[GroupKey, list[WorkItem]]]:
    """``pieces`` cut again into exactly ``count`` chunks, for a retried segment.

    Each chunk keeps to one group (its account and region: its FIFO lane) while there are
    at least as many chunks as groups: every group gets one chunk, and each further chunk
    goes to the group whose chunks are then the largest, so chunks stay about even. A
    group with fewer records than chunks leaves some empty. Only with more groups than
    chunks do groups share one; its lane is then its first record's.
    """
    groups: dict[GroupKey, list[WorkItem]] = {}
    for group, piece in pieces:
        groups.setdefault(group, []).extend(piece)
    if not groups or len(groups) > count:
        flat = [(group, work) for group, piece in pieces for work in piece]
        return [
            (part[0][0] if part else GroupKey("", "", ""), [w for _, w in part])
            for part in split(flat, 1, count)
        ]
    shares = dict.fromkeys(groups, 1)
    # The group whose chunks are largest first (ties: the group planned first).
    heap: list[tuple[float, int, GroupKey]] = [
        (-float(len(works)), index, group) for index, (group, works) in enumerate(groups.items())
    ]
    heapq.heapify(heap)
    for _ in range(count - len(groups)):
        _, index, group = heapq.heappop(heap)
        shares[group] += 1
        heapq.heappush(heap, (-len(groups[group]) / shares[group], index, group))
    return [
        (group, part) for group, works in groups.items() for part in split(works, 1, shares[group])
    ]


@frozen
class RunSettings:
    """How a run is cut: Scan segments, and records a chunk (a worker's one item)."""

    segments: int = field(default=4, validator=positive)
    chunk_records: int = field(default=100, validator=positive)
    page_size: int = field(default=100, validator=positive)


class WorkFailed(Exception):
    """A work item that did not finish: it goes back on the queue; the message says why.

    `announced` holds the events of what the attempt did change before it failed, and
    `tally` its account (what it settled, what failed and why)."""

    def __init__(
        self, reason: str, announced: Announcement | None = None, tally: Tally | None = None
    ) -> None:
        super().__init__(reason)
        self.announced = announced or Announcement()
        self.tally = tally or Tally()


@frozen
class WorkResult:
    """What a worker did with one item; `summary` is set when it finished the run.

    `tally` is the item's own account (per record, per account, what changed) and
    `announced` the events it published: its changes, then the run's end if it was last.
    """

    item: SweepWork
    counted: bool
    summary: RunSummary | None = None
    tally: Tally = field(factory=Tally)
    announced: Announcement = field(factory=Announcement)


def split(items: Sequence[_T], size: int, count: int | None = None) -> list[list[_T]]:
    """``items`` in chunks of ``size``; or, given ``count``, in exactly that many (even ones).

    The second form serves a retried segment, which must put on the queue as many chunks
    as its first attempt planned, whatever the table holds now.
    """
    if count is None:
        return [list(items[i : i + size]) for i in range(0, len(items), size)]
    base, extra = divmod(len(items), count)
    out: list[list[_T]] = []
    start = 0
    for index in range(count):
        end = start + base + (1 if index < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out


@frozen
class StartSweep:
    """The planner: open a run and queue one work item per Scan segment."""

    ledger: RunLedger
    queue: WorkQueue
    clock: Clock
    settings: RunSettings = field(factory=RunSettings)

    def execute(self, request: SweepRequest, dry_run: bool) -> str:
        run_id = request.run_id or f"sweep-{self.clock.now():%Y%m%dT%H%M%SZ}"
        total = self.settings.segments
        self.ledger.open(run_id, self.clock.now(), dry_run, planned=total)
        self.queue.send(
            [
                SweepWork(
                    run_id,
                    f"segment-{segment}-of-{total}",
                    WorkKind.SEGMENT,
                    dry_run,
                    total_segments=total,
                    segment=segment,
                    accounts=request.accounts,
                    regions=request.regions,
                )
                for segment in range(total)
            ]
        )
        return run_id


@frozen
class SweepWorker:
    """Run one work item of a run; the last one of the run writes its summary."""

    sweep: Reconcile
    table: SegmentScan
    ledger: RunLedger
    queue: WorkQueue
    clock: Clock
    settings: RunSettings = field(factory=RunSettings)
    _next_calls: dict[str, float] = field(factory=dict, init=False)
    """Each account's next Config call slot: the pace holds across the items one worker does."""

    @property
    def store(self) -> ExceptionStore:
        return self.sweep.store

    @property
    def rules(self) -> RuleCatalog:
        return self.sweep.rules

    def execute(
        self,
        item: SweepWork,
        *,
        deadline: float | None = None,
        progress: SweepProgress | None = None,
    ) -> WorkResult:
        """Do the item, count it once, and close the run if it was the last; `WorkFailed`.

        A chunk's Config calls stop at ``deadline`` (`Timer.monotonic`; default the sweep's
        budget from now); ``progress`` is told of each record settled.
        """
        tally = Tally()
        announced = Announcement()
        try:
            if item.kind is WorkKind.SEGMENT:
                delta = self._plan_segment(item, tally)
            else:
                delta, announced = self._settle_chunk(item, tally, deadline, progress)
        except (TransientError, RecordFormatError, WorkFailed) as error:
            reason = f"{item.item_id}: {error}"
            try:
                self.ledger.fail(item.run_id, item.item_id, reason)
            except TransientError as uncounted:
                reason += f" (the failure was not counted: {uncounted})"
            earlier = error.announced if isinstance(error, WorkFailed) else None
            raise WorkFailed(reason, earlier, tally) from error
        totals = self.ledger.finish(item.run_id, item.item_id, delta)
        counted = totals is not None
        if totals is None:
            # Counted before: by an attempt that may have died before it closed the run,
            # so a finished run without its summary is closed here (`close` is once only).
            totals = self.ledger.totals(item.run_id)
        if totals is None or not totals.done:
            return WorkResult(item, counted=counted, tally=tally, announced=announced)
        summary = RunSummary(
            run_id=totals.run_id,
            dry_run=totals.dry_run,
            work_items=totals.finished,
            failures=totals.failures,
            config_calls=totals.config_calls,
            records_read=totals.records_read,
            records_scanned=totals.records_scanned,
            segments=item.total_segments,
            counts=dict(totals.counts),
            started_at=totals.started_at,
            finished_at=self.clock.now(),
        )
        if not self.ledger.close(summary):
            return WorkResult(item, counted=counted, tally=tally, announced=announced)
        if self.sweep.publish is not None:
            end = self.sweep.publish.run_finished(summary)
            announced = Announcement(
                announced.events + end.events, announced.failures + end.failures
            )
        return WorkResult(item, counted, summary, tally, announced)

    def _request(self, item: SweepWork) -> SweepRequest:
        return SweepRequest(
            run_id=item.run_id, accounts=item.accounts, regions=item.regions, dry_run=item.dry_run
        )

    def _plan_segment(self, item: SweepWork, tally: Tally) -> RunDelta:
        rules = {r.rule_id: r for r in self.rules.list_rules()}
        records = self.table.scan_open_segment(
            item.segment, item.total_segments, self.settings.page_size, tally.unreadable.append
        )
        plan = self.sweep.classify(records, rules, self._request(item), tally)
        tally.scanned = plan.scanned
        pieces: list[tuple[GroupKey, list[WorkItem]]] = [
            (group, piece)
            for group in sorted(plan.groups)
            for records in split(plan.groups[group], self.settings.chunk_records)
            for piece in _fitted(records)
        ]
        planned = self.ledger.plan(item.run_id, item.item_id, len(pieces))
        if planned != len(pieces):
            # A retry: as many chunks as the first attempt planned, with the same ids.
            pieces = _recut(pieces, planned)
        self.queue.send(
            [
                SweepWork(
                    item.run_id,
                    f"{item.item_id}/chunk-{index}",
                    WorkKind.CHUNK,
                    item.dry_run,
                    total_segments=item.total_segments,
                    segment=item.segment,
                    group=group,
                    keys=tuple(w.record.record_key for w in piece),
                    accounts=item.accounts,
                    regions=item.regions,
                )
                for index, (group, piece) in enumerate(pieces)
            ]
        )
        return RunDelta(_counts(tally), records_read=plan.scanned, records_scanned=plan.scanned)

    def _settle_chunk(
        self,
        item: SweepWork,
        tally: Tally,
        deadline: float | None,
        progress: SweepProgress | None,
    ) -> tuple[RunDelta, Announcement]:
        rules = {r.rule_id: r for r in self.rules.list_rules()}
        # One batch read for the chunk's keys (100 a call), not one read per key.
        found = self.store.get_many(item.keys)
        current = [found[k] for k in item.keys if k in found]
        open_records = [r for r in current if not r.is_closed]
        for _ in range(len(item.keys) - len(open_records)):
            # Closed (or gone) since it was planned: by the event path, or by an earlier
            # attempt of this item; either way nothing is left to write.
            tally.counts[SweepOutcome.DUPLICATE] += 1
        plan = self.sweep.classify(open_records, rules, self._request(item), tally)
        tally.expiring.clear()  # listed once, by the segment that planned the record
        trigger = Trigger(item.run_id, reconciled=True)
        spent = False
        for group in sorted(plan.groups):
            settled = self.sweep.sweep_items(
                group,
                plan.groups[group],
                trigger,
                item.dry_run,
                tally,
                progress,
                deadline=deadline,
                next_calls=self._next_calls,
            )
            if not settled:
                spent = True
                break
        # What was written is announced now, also when the item fails after: its retry reads
        # those records closed and announces nothing for them.
        publish = self.sweep.publish
        announced = (
            publish.notes(tally.changes, item.run_id, item.dry_run) if publish else Announcement()
        )
        if spent:
            raise WorkFailed("the worker's time budget ran out", announced)
        if tally.failures:
            raise WorkFailed(
                "; ".join(f"{f.group.cursor}: {f.reason}" for f in tally.failures), announced
            )
        delta = RunDelta(_counts(tally), config_calls=tally.config_calls, records_read=len(current))
        return delta, announced


def _counts(tally: Tally) -> dict[str, int]:
    return {outcome.value: n for outcome, n in Counter(tally.counts).items() if n}
