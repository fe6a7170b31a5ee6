"""The distributed sweep on the in-memory twins: planner, queue, workers and run ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from attrs import define, field

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from adapters.in_memory.publisher import InMemoryEventPublisher
from adapters.in_memory.sweep_run import InMemoryRunLedger, InMemoryWorkQueue
from application.announce import PublishEvents
from application.errors import TransientError
from application.handle_change import Policy
from application.ports import ElmEventKind, ResourceState
from application.reconcile import Reconcile, SweepLimits
from application.sweep_report import SweepRequest
from application.sweep_run import (
    MAX_CHUNK_KEY_BYTES,
    RunSettings,
    StartSweep,
    SweepWorker,
    WorkFailed,
    WorkResult,
    split,
)
from application.sweep_run_ports import RunDelta, RunSummary, RunTotals, SweepWork, WorkKind
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from tests.event_schema import check_documented

ACCOUNT = "111122223333"
OTHER = "444455556666"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
SG_RULE = Rule(
    1, "sg-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
)
UNTYPED_RULE = Rule(
    4, "untyped", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG, "X::Y::Z"})
)
QA_RULE = Rule(9, "QA-sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG}))


@define
class FlakyInventory:
    """The inventory twin; the IDs in ``fail_for`` are throttled while ``failures`` last."""

    inner: InMemoryInventory
    fail_for: frozenset[str] = frozenset()
    failures: int = 0
    calls: int = 0

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> dict[str, ResourceState]:
        self.calls += 1
        if self.failures and self.fail_for & set(resource_ids):
            self.failures -= 1
            raise TransientError("ThrottlingException: Rate exceeded")
        return dict(self.inner.lookup(account_id, region, resource_type, resource_ids))

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> list[ResourceState]:
        self.calls += 1
        return list(self.inner.lookup_by_name(account_id, region, resource_type, resource_name))


@define
class KillingLedger:
    """The ledger twin; ``kill_before_finish`` names items whose worker dies before counting.

    A worker killed there has done the item's work (written, queued) but neither counted it
    nor deleted its message: the queue gives the message back after its visibility timeout.
    """

    inner: InMemoryRunLedger = field(factory=InMemoryRunLedger)
    kill_before_finish: set[str] = field(factory=set)
    kill_before_close: bool = False

    def open(self, run_id: str, started_at: object, dry_run: bool, planned: int) -> None:
        self.inner.open(run_id, started_at, dry_run, planned)  # type: ignore[arg-type]

    def plan(self, run_id: str, item_id: str, children: int) -> int:
        return self.inner.plan(run_id, item_id, children)

    def finish(self, run_id: str, item_id: str, delta: RunDelta) -> RunTotals | None:
        if item_id in self.kill_before_finish:
            self.kill_before_finish.discard(item_id)
            raise _Killed(item_id)
        return self.inner.finish(run_id, item_id, delta)

    def fail(self, run_id: str, item_id: str, reason: str) -> None:
        self.inner.fail(run_id, item_id, reason)

    def close(self, summary: RunSummary) -> bool:
        if self.kill_before_close:
            self.kill_before_close = False
            raise _Killed(summary.run_id)
        return self.inner.close(summary)

    def totals(self, run_id: str) -> RunTotals | None:
        return self.inner.totals(run_id)


class _Killed(BaseException):
    """The worker's process ends (a timeout, an out-of-memory kill): nothing is caught."""


@define
class Estate:
    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    config: InMemoryInventory = field(factory=InMemoryInventory)
    clock: FixedClock = field(factory=FixedClock)
    timer: ManualTimer = field(factory=ManualTimer)
    ledger: KillingLedger = field(factory=KillingLedger)
    queue: InMemoryWorkQueue = field(factory=InMemoryWorkQueue)
    inventory: FlakyInventory = field(init=False)
    settings: RunSettings = field(factory=lambda: RunSettings(segments=3, chunk_records=100))
    policy: Policy = field(factory=Policy)
    results: list[WorkResult] = field(factory=list)
    failed: list[str] = field(factory=list)
    bus: InMemoryEventPublisher = field(factory=InMemoryEventPublisher)

    def __attrs_post_init__(self) -> None:
        self.inventory = FlakyInventory(self.config)
        for rule in (SG_RULE, UNTYPED_RULE, QA_RULE):
            self.rules.add(rule)

    def exceptions(
        self, count: int, *, deleted: bool = True, account: str = ACCOUNT, rule: Rule = SG_RULE
    ) -> list[RecordKey]:
        keys = []
        for n in range(count):
            resource_id = f"sg-{account[-4:]}{rule.rule_id}{n:06d}"
            key = RecordKey(account, rule.rule_id, resource_id)
            self.store.add(ExceptionRecord(key, REGION))
            self.config.put(account, REGION, SG, resource_id, deleted=deleted)
            keys.append(key)
        return keys

    def worker(self) -> SweepWorker:
        sweep = Reconcile(
            self.rules,
            self.store,
            self.inventory,
            self.clock,
            self.timer,
            self.policy,
            SweepLimits(),
            PublishEvents(self.bus, self.clock),
        )
        return SweepWorker(sweep, self.store, self.ledger, self.queue, self.clock, self.settings)

    def start(self, run_id: str = "run-1", *, dry_run: bool = False) -> str:
        planner = StartSweep(self.ledger, self.queue, self.clock, self.settings)
        return planner.execute(SweepRequest(run_id=run_id), dry_run)

    def step(self) -> bool:
        """One worker takes one message: deleted when done, released when it failed or died."""
        received = self.queue.receive()
        if received is None:
            return False
        try:
            result = self.worker().execute(received.item)
        except WorkFailed as error:
            self.failed.append(str(error))
            self.queue.release(received.receipt)
        except _Killed:
            self.queue.release(received.receipt)  # its visibility timeout ran out
        else:
            self.results.append(result)
            self.queue.delete(received.receipt)
        return True

    def drain(self, limit: int = 10_000) -> None:
        for _ in range(limit):
            if not self.step():
                return
        raise AssertionError("the queue did not drain")

    def summaries(self) -> list[RunSummary]:
        return [r.summary for r in self.results if r.summary is not None]

    def closed(self, keys: Sequence[RecordKey]) -> int:
        return sum(1 for k in keys if (r := self.store.get(k)) is not None and r.is_closed)


@pytest.fixture
def estate() -> Estate:
    return Estate()


def chunk_items(estate: Estate) -> list[SweepWork]:
    return [r.item for r in estate.results if r.item.kind is WorkKind.CHUNK and r.counted]


def test_a_group_of_250_records_is_split_into_chunks_and_all_of_them_are_closed(
    estate: Estate,
) -> None:
    keys = estate.exceptions(250)
    estate.start()
    estate.drain()

    chunks = chunk_items(estate)
    assert sorted(len(c.keys) for c in chunks) == [50, 100, 100]
    assert {c.group.cursor for c in chunks if c.group} == {f"{ACCOUNT}/{REGION}/{SG}"}
    assert estate.closed(keys) == 250
    assert all((r := estate.store.get(k)) is not None and r.status == CLOSED_STATUS for k in keys)
    [summary] = estate.summaries()
    assert summary.counts == {"closed": 250}
    assert summary.work_items == 3 + 3  # three segments, three chunks
    assert summary.failures == 0
    assert summary.config_calls == 13  # 20 IDs a call: 5 + 5 + 3


@pytest.mark.parametrize(("records", "batch_reads"), [(1, 1), (100, 1), (101, 2), (250, 3)])
def test_a_chunk_reads_its_records_in_batches_of_a_hundred_never_one_by_one(
    records: int, batch_reads: int
) -> None:
    estate = Estate(settings=RunSettings(segments=1, chunk_records=250))
    keys = estate.exceptions(records)
    estate.start()
    assert estate.step()  # the segment: a Scan, no reads by key
    assert (estate.store.gets, estate.store.batch_gets) == (0, 0)

    assert estate.step()  # the one chunk
    assert [len(c.keys) for c in chunk_items(estate)] == [records]
    assert estate.store.batch_gets == batch_reads
    assert estate.store.gets == 0
    assert estate.closed(keys) == records


def test_a_chunk_whose_config_call_fails_is_retried_and_the_others_are_done(
    estate: Estate,
) -> None:
    keys = estate.exceptions(250)
    estate.inventory.fail_for = frozenset({keys[120].key})
    estate.inventory.failures = 1
    estate.start()
    estate.drain()

    assert len(estate.failed) == 1
    assert "ThrottlingException" in estate.failed[0]
    assert estate.closed(keys) == 250
    [summary] = estate.summaries()
    assert summary.failures == 1
    # The failed chunk's first Config call (20 IDs) had been answered and written before the
    # throttled one: its retry reads those 20 closed and writes nothing for them.
    assert summary.counts == {"closed": 230, "duplicate": 20}
    assert len(estate.store.writes) == 250
    assert estate.queue.dead == []


def test_a_chunk_that_always_fails_is_dead_lettered_and_the_run_stays_open(
    estate: Estate,
) -> None:
    keys = estate.exceptions(250)
    estate.inventory.fail_for = frozenset({keys[0].key})
    estate.inventory.failures = 100
    estate.start()
    estate.drain()

    [dead] = estate.queue.dead
    assert keys[0] in dead.keys
    assert estate.summaries() == []
    totals = estate.ledger.totals("run-1")
    assert totals is not None
    assert totals.finished == totals.planned - 1
    assert totals.failures == estate.queue.max_receives
    assert estate.closed(keys) == 150


def test_a_worker_killed_after_writing_is_redelivered_and_nothing_is_written_twice(
    estate: Estate,
) -> None:
    keys = estate.exceptions(250)
    estate.start()
    segment = next(
        f"segment-{n}-of-3"
        for n in range(3)
        if next(estate.store.scan_open_segment(n, 3), None) is not None
    )
    estate.ledger.kill_before_finish = {segment, f"{segment}/chunk-1"}
    estate.drain()

    assert estate.closed(keys) == 250
    assert len(estate.store.writes) == 250  # each record once, the retry wrote nothing
    [summary] = estate.summaries()
    assert summary.work_items == 6
    # The killed chunk's records were closed by its first attempt; its retry reads them closed.
    assert summary.counts == {"closed": 150, "duplicate": 100}
    # The killed segment queued its chunks twice; the copies were not counted again.
    assert sum(1 for r in estate.results if not r.counted) == 3


def test_two_overlapping_runs_both_finish_and_each_record_is_closed_once(
    estate: Estate,
) -> None:
    keys = estate.exceptions(120) + estate.exceptions(80, account=OTHER)
    estate.start("run-a")
    for _ in range(4):
        estate.step()
    estate.start("run-b")
    estate.drain()

    assert estate.closed(keys) == 200
    assert len(estate.store.writes) == 200
    summaries = {s.run_id: s for s in estate.summaries()}
    assert set(summaries) == {"run-a", "run-b"}
    both = [summaries["run-a"].counts, summaries["run-b"].counts]
    assert sum(c.get("closed", 0) for c in both) == 200


def test_a_run_with_no_open_exception_finishes_with_an_empty_summary(estate: Estate) -> None:
    estate.start()
    estate.drain()

    [summary] = estate.summaries()
    assert summary.work_items == 3
    assert summary.counts == {}
    assert summary.records_read == 0
    assert summary.duration_seconds == 0.0


def test_the_workers_keep_the_sweeps_scope_unknown_types_and_dry_run(estate: Estate) -> None:
    keys = estate.exceptions(30)
    estate.exceptions(5, rule=UNTYPED_RULE)
    estate.policy = Policy(rule_prefix="sg-")
    estate.start(dry_run=True)
    estate.drain()

    assert estate.closed(keys) == 0
    assert estate.store.writes == []
    [summary] = estate.summaries()
    assert summary.dry_run
    assert summary.counts == {"closed": 30, "out-of-scope": 5}


def test_unknown_types_are_counted_in_the_summary(estate: Estate) -> None:
    for n in range(4):
        key = RecordKey(ACCOUNT, UNTYPED_RULE.rule_id, f"thing-{n}")
        estate.store.add(ExceptionRecord(key, REGION))
    estate.start()
    estate.drain()

    [summary] = estate.summaries()
    assert summary.unknown_types == 4


def test_the_summary_duration_runs_from_the_start_to_the_last_item(estate: Estate) -> None:
    estate.exceptions(10)
    estate.start()
    estate.clock.advance(timedelta(minutes=3))
    estate.drain()
    [summary] = estate.summaries()
    assert summary.duration_seconds == 180.0


@pytest.mark.parametrize(("size", "count"), [(100, None), (1, 3), (1, 5)])
def test_split_keeps_every_item_in_order(size: int, count: int | None) -> None:
    items = list(range(250))
    pieces = split(items, size, count)
    assert [i for p in pieces for i in p] == items
    if count is not None:
        assert len(pieces) == count


def test_queue_sends_in_batches_of_ten(estate: Estate) -> None:
    estate.settings = RunSettings(segments=25)
    estate.start()
    assert estate.queue.sent_batches == [10, 10, 5]


def test_a_segment_retried_after_the_table_grew_queues_as_many_chunks_as_it_planned(
    estate: Estate,
) -> None:
    keys = estate.exceptions(150)
    estate.start()
    segment = next(
        f"segment-{n}-of-3"
        for n in range(3)
        if next(estate.store.scan_open_segment(n, 3), None) is not None
    )
    estate.ledger.kill_before_finish = {segment}
    for _ in range(3):  # the three segments; the one holding the records dies after planning
        estate.step()
    keys += estate.exceptions(250)[150:]  # 100 more records in the same partition
    estate.drain()

    # The retry's two chunks carry every record (125 each) under the first attempt's ids:
    # they are worked, yet not counted again, so the run's total of 5 items stands.
    [summary] = estate.summaries()
    assert estate.closed(keys) == 250
    assert summary.work_items == 3 + 2  # the two chunks the first attempt planned
    totals = estate.ledger.totals("run-1")
    assert totals is not None
    assert totals.planned == totals.finished == 5


def test_a_retried_segment_keeps_each_chunk_to_one_account_and_region(estate: Estate) -> None:
    """A chunk's FIFO message group is its account and region, so that one worker at a time
    calls AWS Config for it. The retry of a segment must cut as many chunks as its first
    attempt planned; it must still not put two accounts' records in one chunk."""
    estate.settings = RunSettings(segments=1)
    # Resources AWS Config still reports: every record stays open, and the retry reads all.
    estate.exceptions(150, deleted=False)  # two chunks
    estate.exceptions(30, deleted=False, account=OTHER)  # one chunk
    estate.ledger.kill_before_finish = {"segment-0-of-1"}
    estate.start()
    estate.step()  # plans 3 chunks, then dies before counting the segment
    estate.exceptions(250, deleted=False)  # 100 more: a fresh cut would make 4 chunks
    estate.drain()

    # Both attempts' chunks were worked (the retry's under the same ids, not counted again).
    chunks = [r.item for r in estate.results if r.item.kind is WorkKind.CHUNK]
    assert len(chunks) == 6
    assert sorted(len(c.keys) for c in chunks[-3:]) == [30, 125, 125]
    for chunk in chunks:
        assert {k.account_id for k in chunk.keys} == {chunk.lane.split("#")[0]}, chunk.item_id
    [summary] = estate.summaries()
    assert summary.work_items == 1 + 3


def test_one_account_and_region_is_handed_to_one_worker_at_a_time(estate: Estate) -> None:
    """AWS Config's limits are per account and region: the queue hands out a lane's next
    chunk only once its last one is done, as a FIFO queue's message group does, while other
    lanes' chunks go to other workers at the same time."""
    estate.exceptions(250)
    estate.exceptions(30, account="444455556666")
    estate.settings = RunSettings(segments=1)
    estate.start()
    assert estate.step()  # the one segment plans 3 + 1 chunks
    first = estate.queue.receive()
    second = estate.queue.receive()
    assert first is not None
    assert second is not None
    assert {first.item.lane, second.item.lane} == {
        f"{ACCOUNT}#{REGION}",
        f"444455556666#{REGION}",
    }
    assert estate.queue.receive() is None  # both lanes are busy; two chunks wait
    estate.queue.delete(first.receipt)
    third = estate.queue.receive()
    assert third is not None
    assert third.item.lane == first.item.lane == f"{ACCOUNT}#{REGION}"


def test_a_run_announces_each_close_once_and_its_end_last(estate: Estate) -> None:
    """Each chunk's closes go out once written; the worker that finished the run's last item
    announces its end after them, in the documented shape."""
    closed = estate.exceptions(120)
    estate.exceptions(5, deleted=False, account="444455556666")
    estate.start()
    estate.drain()

    kinds = [e.kind for e in estate.bus.published]
    assert kinds.count(ElmEventKind.EXCEPTION_CLOSED) == len(closed)
    assert kinds[-1] is ElmEventKind.RECONCILIATION_FINISHED
    assert kinds.count(ElmEventKind.RECONCILIATION_FINISHED) == 1
    announced = [e.detail for e in estate.bus.of_kind(ElmEventKind.EXCEPTION_CLOSED)]
    assert sorted(d["exceptionKey"]["Exception"] for d in announced) == sorted(
        k.key for k in closed
    )
    assert {d["sweepRun"] for d in announced} == {"run-1"}
    [end] = estate.bus.of_kind(ElmEventKind.RECONCILIATION_FINISHED)
    assert end.detail["sweepRun"] == "run-1"
    assert end.detail["recordsScanned"] == 125
    assert end.detail["outcomes"] == {"closed": 120, "not-confirmed": 5}
    assert end.detail["groups"] == len(chunk_items(estate))  # each segment's chunks of a group
    for event in estate.bus.published:
        check_documented({"source": "elm", "detail-type": event.kind.value, "detail": event.detail})


def test_a_dry_run_announces_nothing_and_a_redone_chunk_announces_nothing_again(
    estate: Estate,
) -> None:
    keys = estate.exceptions(30)
    estate.start("dry", dry_run=True)
    estate.drain()
    assert estate.bus.published == []

    # The chunk's worker dies after its writes and events, before counting: the chunk is
    # worked again, finds its records closed, and announces nothing more.
    estate.ledger.kill_before_finish.add("segment-0-of-3/chunk-0")
    estate.start("wet")
    estate.drain()
    closes = estate.bus.of_kind(ElmEventKind.EXCEPTION_CLOSED)
    assert sorted(e.detail["exceptionKey"]["Exception"] for e in closes) == sorted(
        k.key for k in keys
    )
    assert estate.bus.of_kind(ElmEventKind.RECONCILIATION_FINISHED)[0].detail["sweepRun"] == "wet"


def test_a_chunk_of_long_keys_is_cut_so_that_its_item_fits_one_queue_message(
    estate: Estate,
) -> None:
    """SQS takes 256 KiB a message: 300 keys of 1,000 characters are more than one chunk's
    worth, whatever ELM_SWEEP_CHUNK_RECORDS says."""
    long_keys = []
    for n in range(300):
        key = RecordKey(ACCOUNT, SG_RULE.rule_id, f"sg-{n:04d}-" + "x" * 992)
        estate.store.add(ExceptionRecord(key, REGION))
        estate.config.put(ACCOUNT, REGION, SG, key.key, deleted=True)
        long_keys.append(key)
    estate.settings = RunSettings(segments=1, chunk_records=1000)
    estate.start()
    estate.drain()

    chunks = chunk_items(estate)
    assert len(chunks) == 2
    assert all(sum(len(k.key) + 40 for k in c.keys) <= MAX_CHUNK_KEY_BYTES for c in chunks)
    assert estate.closed(long_keys) == 300


def test_a_worker_killed_after_the_last_count_but_before_the_summary_still_ends_the_run(
    estate: Estate,
) -> None:
    """The last item is counted, then its worker dies: its redelivery finds it counted and
    the run done without a summary, and writes the summary once."""
    keys = estate.exceptions(50)
    estate.ledger.kill_before_close = True
    estate.start()
    estate.drain()

    [summary] = estate.summaries()
    assert summary.counts == {"closed": 50}
    assert estate.closed(keys) == 50
    assert estate.ledger.inner.summary("run-1") == summary
