"""The distributed sweep at organisation scale: work items, Config calls, items read, time.

The real planner (`StartSweep`) and workers (`SweepWorker`) run a whole sweep on the
in-memory twins (exceptions table, rules, work queue, run ledger) over a generated estate.
AWS Config is a counting inventory: every call is counted by account and region and by the
work item that made it, and answered at once (the pace is kept by `ManualTimer`, which
advances a clock instead of sleeping). Nothing below is computed by hand: the counts are
what the run did.

The time a run takes against AWS Config is then modelled from those counts (`sweep_seconds`):
each chunk item takes its Config calls / the rate, one account-region is worked by one worker
at a time (the sweep queue's message group is the account and region), and W workers take the
oldest chunk of any account-region that no other worker holds. The model is bounded below by
both total calls / (W x rate) and the busiest account-region's calls / rate, and above by
their sum (tests/benchmarks checks both).

The rate. No stored AWS page gives a number for ListDiscoveredResources or
BatchGetResourceConfig: "AWS Config endpoints and quotas" (AWS General Reference,
https://docs.aws.amazon.com/general/latest/gr/awsconfig.html) lists the endpoints and points
to Service Quotas, and the Config Developer Guide's "Service Limits"
(https://docs.aws.amazon.com/config/latest/developerguide/configlimits.html) lists rules,
aggregators and conformance packs only. The model therefore uses ELM's own default pace,
`ELM_SWEEP_CALLS_PER_SECOND` (`SweepLimits.max_calls_per_second`), as the rate per
account-region, and names it as such.
"""

from __future__ import annotations

import heapq
import resource
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence

from attrs import define, field, frozen

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryRuleCatalog,
    ManualTimer,
)
from adapters.in_memory.sweep_run import InMemoryRunLedger, InMemoryWorkQueue
from application.handle_change import Policy
from application.ports import (
    MAX_KEYS_PER_BATCH_GET,
    Clock,
    ExceptionStore,
    ResourceInventory,
    ResourceState,
    RuleCatalog,
)
from application.reconcile import Reconcile, SweepLimits
from application.sweep_report import SweepRequest
from application.sweep_run import RunSettings, StartSweep, SweepWorker, WorkFailed
from application.sweep_run_ports import SweepWork, WorkKind
from benchmarks.plots import Point, Series
from benchmarks.report import Met, Row, Section
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule

__all__ = [
    "RATE_SOURCE",
    "SWEEP_RULES",
    "WORKERS",
    "ChunkCalls",
    "CountingInventory",
    "Estate",
    "SweepCounts",
    "account_sizes",
    "generate_estate",
    "paced_sweep",
    "run_on_twins",
    "sweep_bounds",
    "sweep_figures",
    "sweep_seconds",
]

WORKERS = (1, 10, 50)
RATE = SweepLimits().max_calls_per_second
RATE_SOURCE = (
    "no stored AWS page gives a rate for ListDiscoveredResources or BatchGetResourceConfig "
    '("AWS Config endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/'
    'awsconfig.html; "Service Limits", AWS Config Developer Guide, '
    "https://docs.aws.amazon.com/config/latest/developerguide/configlimits.html): the rate "
    f"is ELM's own default pace, ELM_SWEEP_CALLS_PER_SECOND = {RATE:g} calls a second, held "
    "per account-region"
)
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
SKEW = 0.5
"""Account i holds a share of the records in proportion to 1 / (i + 1) ** SKEW."""
DELETED_EVERY = 100
"""Every 100th record's resource is deleted (its event lost): the sweep must close it."""

SWEEP_RULES = (
    Rule(
        1,
        "sg-no-open-ingress",
        ExceptionFormat.RESOURCE_ID,
        ExceptionType.SIMPLE,
        frozenset({"AWS::EC2::SecurityGroup"}),
    ),
    Rule(
        2,
        "ebs-encrypted",
        ExceptionFormat.RESOURCE_ID,
        ExceptionType.SIMPLE,
        frozenset({"AWS::EC2::Volume"}),
    ),
    Rule(
        3,
        "instance-imdsv2",
        ExceptionFormat.RESOURCE_ID,
        ExceptionType.SIMPLE,
        frozenset({"AWS::EC2::Instance"}),
    ),
)
_PREFIX = {1: "sg-", 2: "vol-", 3: "i-"}


def account_sizes(records: int, accounts: int, skew: float = SKEW) -> list[int]:
    """Records per account, summing to ``records`` exactly (largest remainders), each ≥ 1."""
    if accounts < 1 or records < accounts:
        raise ValueError(f"need at least one record per account ({records} for {accounts})")
    weights = [1.0 / (i + 1) ** skew for i in range(accounts)]
    spare = records - accounts
    total = sum(weights)
    shares = [spare * w / total for w in weights]
    sizes = [1 + int(s) for s in shares]
    left = records - sum(sizes)
    by_remainder = sorted(range(accounts), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in by_remainder[:left]:
        sizes[i] += 1
    return sizes


def _account_id(index: int) -> str:
    return f"{100000000000 + index:012d}"


@frozen
class Estate:
    """Open exceptions over accounts and regions, and which of their resources are gone."""

    records: tuple[ExceptionRecord, ...]
    deleted: frozenset[str]
    accounts: int
    regions: tuple[str, ...]


def generate_estate(
    records: int,
    accounts: int,
    regions: Sequence[str] = REGIONS,
    *,
    skew: float = SKEW,
    deleted_every: int = DELETED_EVERY,
) -> Estate:
    """``records`` open exceptions: accounts sized by `account_sizes`, each account's records
    dealt round-robin over ``regions`` and the three rules; every ``deleted_every``-th one's
    resource deleted. Deterministic."""
    out: list[ExceptionRecord] = []
    deleted: set[str] = set()
    number = 0
    for index, size in enumerate(account_sizes(records, accounts, skew)):
        account = _account_id(index)
        for n in range(size):
            rule = SWEEP_RULES[n % len(SWEEP_RULES)]
            resource_id = f"{_PREFIX[rule.rule_id]}{index:05d}{n:08x}"
            out.append(
                ExceptionRecord(
                    RecordKey(account, rule.rule_id, resource_id),
                    region=regions[(n // len(SWEEP_RULES)) % len(regions)],
                )
            )
            if number % deleted_every == 0:
                deleted.add(resource_id)
            number += 1
    return Estate(tuple(out), frozenset(deleted), accounts, tuple(regions))


@define
class CountingInventory:
    """AWS Config for the estate: every call counted, by account-region and by work item."""

    deleted: frozenset[str]
    current: str = ""
    """The work item being worked (set by the driver): its calls are counted under it."""
    by_group: Counter[str] = field(factory=Counter)
    by_item: Counter[str] = field(factory=Counter)
    id_calls: int = 0
    name_calls: int = 0

    def _count(self, account_id: str, region: str) -> None:
        self.by_group[f"{account_id}#{region}"] += 1
        self.by_item[self.current] += 1

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        self._count(account_id, region)
        self.id_calls += 1
        return {
            rid: ResourceState(resource_type, rid, None, rid in self.deleted)
            for rid in resource_ids
        }

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> list[ResourceState]:
        self._count(account_id, region)
        self.name_calls += 1
        return []


@frozen
class ChunkCalls:
    """One chunk item as the time model sees it: its account-region and its Config calls."""

    group: str
    calls: int


@frozen
class SweepCounts:
    """What one whole run on the twins did."""

    records: int
    accounts: int
    regions: int
    segments: int
    chunks: tuple[ChunkCalls, ...]
    config_calls: int
    calls_by_group: Mapping[str, int]
    segment_reads: int
    chunk_reads: int
    chunk_read_calls: int
    """Batch reads the chunks made (DynamoDB: `BatchGetItem`, at most 100 keys a call)."""
    chunk_gets: int
    """Reads of one record by key (DynamoDB: `GetItem`) in the whole run."""
    chunk_read_calls_needed: int
    """One call per 100 keys of each chunk attempt (failed attempts read too)."""
    closed: int
    deleted: int
    messages: int
    send_calls: int
    finished: bool
    seconds: float
    peak_rss_mb: float

    @property
    def items_read(self) -> int:
        return self.segment_reads + self.chunk_reads


def paced_sweep(
    rules: RuleCatalog,
    store: ExceptionStore,
    inventory: ResourceInventory,
    clock: Clock,
    rate: float = RATE,
) -> Reconcile:
    """The sweep's use case as both sweep figures run it: the default policy, ``rate`` Config
    calls a second per account-region, kept on a manual timer that advances, not sleeps."""
    return Reconcile(
        rules,
        store,
        inventory,
        clock,
        ManualTimer(),
        Policy(),
        SweepLimits(max_calls_per_second=rate),
    )


def run_on_twins(estate: Estate, settings: RunSettings, rate: float = RATE) -> SweepCounts:
    """A whole distributed sweep of ``estate`` on the twins: plan, drain the queue, count."""
    store = InMemoryExceptionStore()
    for record in estate.records:
        store.add(record)
    rules = InMemoryRuleCatalog()
    for rule in SWEEP_RULES:
        rules.add(rule)
    inventory = CountingInventory(estate.deleted)
    clock = FixedClock()
    sweep = paced_sweep(rules, store, inventory, clock, rate)
    ledger, queue = InMemoryRunLedger(), InMemoryWorkQueue()
    start = time.perf_counter()
    run_id = StartSweep(ledger, queue, clock, settings).execute(
        SweepRequest(run_id="bench-sweep"), dry_run=False
    )
    worker = SweepWorker(sweep, store, ledger, queue, clock, settings)
    chunks: list[SweepWork] = []
    segments = 0
    calls_needed = 0
    while (received := queue.receive()) is not None:
        item = received.item
        inventory.current = item.item_id
        if item.kind is WorkKind.CHUNK:
            calls_needed += -(-len(set(item.keys)) // MAX_KEYS_PER_BATCH_GET)
        try:
            worker.execute(item)
        except WorkFailed:
            queue.release(received.receipt)
            continue
        queue.delete(received.receipt)
        if item.kind is WorkKind.CHUNK:
            chunks.append(item)
        else:
            segments += 1
    seconds = time.perf_counter() - start
    summary = ledger.summary(run_id)
    totals = ledger.totals(run_id)
    assert totals is not None
    closed = totals.counts.get("closed", 0)
    chunk_reads = sum(len(c.keys) for c in chunks)
    return SweepCounts(
        records=len(estate.records),
        accounts=estate.accounts,
        regions=len(estate.regions),
        segments=segments,
        chunks=tuple(
            ChunkCalls(
                f"{c.group.account_id}#{c.group.region}" if c.group else "?",
                inventory.by_item[c.item_id],
            )
            for c in chunks
        ),
        config_calls=totals.config_calls,
        calls_by_group=dict(inventory.by_group),
        segment_reads=totals.records_read - chunk_reads,
        chunk_reads=chunk_reads,
        chunk_read_calls=store.batch_gets,
        chunk_gets=store.gets,
        chunk_read_calls_needed=calls_needed,
        closed=closed,
        deleted=len(estate.deleted),
        messages=sum(queue.sent_batches),
        send_calls=len(queue.sent_batches),
        finished=summary is not None and not queue.dead,
        seconds=seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def sweep_seconds(chunks: Sequence[ChunkCalls], workers: int, rate: float) -> float:
    """The time W workers take over ``chunks`` (queue order) at ``rate`` calls a second.

    One account-region at a time per worker (its message group): a free worker takes the
    oldest chunk of an account-region no other worker holds; a chunk takes calls / rate.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    pending: dict[str, deque[tuple[int, int]]] = {}
    for order, chunk in enumerate(chunks):
        pending.setdefault(chunk.group, deque()).append((order, chunk.calls))
    ready = [(queue[0][0], group) for group, queue in pending.items()]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now = 0.0
    while ready or running:
        while ready and len(running) < workers:
            _, group = heapq.heappop(ready)
            _, calls = pending[group].popleft()
            heapq.heappush(running, (now + calls / rate, group))
        now, group = heapq.heappop(running)
        if pending[group]:
            heapq.heappush(ready, (pending[group][0][0], group))
    return now


def sweep_bounds(
    calls_by_group: Mapping[str, int], workers: int, rate: float
) -> tuple[float, float]:
    """(total calls / (W x rate), the busiest account-region's calls / rate): no run at
    ``rate`` per account-region with W workers can be faster than either."""
    total = sum(calls_by_group.values())
    busiest = max(calls_by_group.values(), default=0)
    return total / (workers * rate), busiest / rate


def _duration(seconds: float) -> str:
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds:,.1f} s"


def sweep_figures(
    records: int,
    accounts: int,
    regions: Sequence[str] = REGIONS,
    settings: RunSettings | None = None,
    workers: Sequence[int] = WORKERS,
    rate: float = RATE,
    *,
    scaled_from: int | None = None,
) -> tuple[Section, list[Series]]:
    """The figure's section, and sweep time against workers for the plot (the modelled
    time, then its two lower bounds, dashed)."""
    settings = settings or RunSettings()
    estate = generate_estate(records, accounts, regions)
    counts = run_on_twins(estate, settings, rate)
    size = f"{records:,} records, {accounts:,} accounts x {len(regions)} regions"
    if scaled_from is not None:
        size += f" (scaled down from {scaled_from:,} in quick mode)"
    groups = counts.calls_by_group
    busiest = max(groups.values(), default=0)
    rows = [
        Row(
            f"sweep work items, {size}",
            f"{counts.segments + len(counts.chunks):,} "
            f"({counts.segments} segments + {len(counts.chunks):,} chunks of ≤ "
            f"{settings.chunk_records} records)",
        ),
        Row(
            "sweep AWS Config calls",
            f"{counts.config_calls:,} (≤ 20 IDs a call; {len(groups):,} account-regions, "
            f"busiest {busiest:,}, mean {counts.config_calls / max(1, len(groups)):,.1f})",
        ),
        Row(
            "sweep items read",
            f"{counts.items_read:,} ({counts.segment_reads:,} by the segment Scans + "
            f"{counts.chunk_reads:,} chunk re-reads)",
            target="each record read twice (its segment, its chunk)",
            met=Met.of(counts.items_read == 2 * counts.records),
        ),
        Row(
            "sweep chunk re-read calls (DynamoDB)",
            f"{counts.chunk_read_calls:,} BatchGetItem calls of ≤ 100 keys for "
            f"{counts.chunk_reads:,} records; {counts.chunk_gets:,} GetItem",
            target="one call per 100 keys of a chunk, no read one record at a time",
            met=Met.of(
                counts.chunk_read_calls == counts.chunk_read_calls_needed and counts.chunk_gets == 0
            ),
        ),
        Row(
            "sweep records closed (resources deleted, events lost)",
            f"{counts.closed:,} of {counts.deleted:,}; run finished: "
            f"{'yes' if counts.finished else 'no'}",
            target="every one, the run's end known",
            met=Met.of(counts.closed == counts.deleted and counts.finished),
        ),
        Row(
            "sweep SQS messages sent",
            f"{counts.messages:,} in {counts.send_calls:,} SendMessageBatch calls",
        ),
    ]
    points, spreads, busiests = [], [], []
    for w in workers:
        modelled = sweep_seconds(counts.chunks, w, rate)
        spread, busiest_bound = sweep_bounds(groups, w, rate)
        points.append(Point(w, modelled))
        spreads.append(Point(w, spread))
        busiests.append(Point(w, busiest_bound))
        bound = "total / workers" if spread >= busiest_bound else "busiest account-region"
        rows.append(
            Row(
                f"sweep time at {rate:g} Config calls/s per account-region, {w} worker"
                + ("s" if w != 1 else ""),
                f"{_duration(modelled)} (bounds: total/(W x rate) {_duration(spread)}, "
                f"busiest account-region {_duration(busiest_bound)}; {bound} binds)",
            )
        )
    rows.append(
        Row(
            "sweep run on the twins (this machine)",
            f"{counts.seconds:,.1f} s wall, peak RSS {counts.peak_rss_mb:,.0f} MB (process)",
        )
    )
    method = (
        f"A generated estate: {records:,} open exceptions over {accounts:,} accounts "
        f"(account i holds a share in proportion to 1/(i+1)^{SKEW:g}) and the regions "
        f"{', '.join(regions)}, three Resource-ID rules (security groups, volumes, "
        f"instances); every {DELETED_EVERY}th resource deleted with its event lost. The real "
        "StartSweep planner and SweepWorker run the whole sweep on the in-memory twins "
        f"(exceptions table, rules, work queue, run ledger; {settings.segments} Scan "
        f"segments, ELM_SWEEP_CHUNK_RECORDS = {settings.chunk_records}); AWS Config is a "
        "counting inventory (every call counted by account-region and by work item, "
        "answered at once, the pace kept on a manual clock, never slept). Items read: the "
        "records each segment's Scan returned plus each chunk's re-reads; the re-read "
        "calls are the exceptions twin's counts (a batch read per 100 keys, as DynamoDB's "
        "BatchGetItem, and single reads by key, as GetItem). The time is "
        "modelled from the measured calls: a chunk takes its calls / the rate; one "
        "account-region is held by one worker at a time (its message group); a free worker "
        "takes the oldest chunk of an account-region no other holds. The model leaves out "
        "DynamoDB, SQS and Lambda time: it is the time AWS Config's pace alone imposes. "
        f"Rate: {RATE_SOURCE}."
    )
    label = f"{records:,} records"
    return Section("The sweep at organisation scale", method, tuple(rows)), [
        Series(f"{label}: modelled run", tuple(points)),
        Series(f"{label}: bound, total calls / (workers x rate)", tuple(spreads), dashed=True),
        Series(f"{label}: bound, busiest account-region / rate", tuple(busiests), dashed=True),
    ]
