"""Figure 1: DynamoDB items read per event, against the size of the table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from attrs import frozen

from application.handle_change import HandleComplianceChange
from benchmarks import aws
from benchmarks.counting import CallCounter, counting
from benchmarks.data import KINDS, Dataset, generate, generate_partition, item_signal_events
from benchmarks.report import Met, Row, Section, not_measured, ratio
from benchmarks.wiring import in_memory_inventory
from domain.rules import ExceptionKind

__all__ = [
    "MIN_SCAN_RATIO",
    "KindReads",
    "ReadCounts",
    "measure_dataset",
    "measure_reads",
    "reads_per_event",
    "reads_per_partition",
]

MIN_SCAN_RATIO = 1_000
TITLE = "Reads per event vs table size"


@frozen
class ReadCounts:
    """Items read per event, by design, for one table size and one kind."""

    size: int
    kind: ExceptionKind
    elm: float
    elm_rules: float
    elm_partition: float
    reference: float
    elm_events: int
    reference_events: int


def _partition_sizes(dataset: Dataset) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for record in dataset.records:
        key = record.record_key.partition_key
        sizes[key] = sizes.get(key, 0) + 1
    return sizes


@frozen
class KindReads:
    """Items read per event by each design on one data set, for one kind."""

    kind: ExceptionKind
    elm: float
    elm_rules: float
    reference: float
    elm_events: int
    reference_events: int
    elm_item_signal: float | None = None
    """The ARN kind only, when asked: ELM's items read per event for the same deletions
    given as AWS Config's configuration item records (they carry the recorded ARN)."""


def measure_dataset(
    dataset: Dataset, reference_events: int, *, item_signal: bool = False
) -> list[KindReads]:
    """Items read per event by ELM (every event) and by the reference (the first few).

    With ``item_signal``, the ARN kind's deletions are handled a second time as
    configuration item records, each of their records put back open first.
    """
    results = []
    item_reads: float | None = None
    with aws.emulated_aws(dataset):
        container = aws.session()
        client = container.client("dynamodb")
        aws.load_elm_tables(client, dataset)
        aws.load_reference_tables(client, dataset)
        use_case = aws.elm_use_case(client, in_memory_inventory(dataset))
        reference = aws.reference_handler(container)
        elm_counts: dict[ExceptionKind, CallCounter] = {}
        reference_counts: dict[ExceptionKind, CallCounter] = {}
        for kind in KINDS:
            with counting() as elm:
                for event in dataset.events[kind]:
                    use_case.execute(json.dumps(event))
            elm_counts[kind] = elm
            with counting() as ref:
                for event in dataset.events[kind][:reference_events]:
                    reference.handle(json.dumps(event))
            reference_counts[kind] = ref
        if item_signal:
            item_reads = _item_signal_reads(client, dataset, use_case)
    # ELM reads the rules table once per cache period, whichever event comes first: its
    # cost is shared by every event of the run, not charged to the first kind.
    total_events = sum(len(dataset.events[k]) for k in KINDS)
    rules = sum(c.items_read[aws.ELM_RULES] for c in elm_counts.values()) / total_events
    for kind in KINDS:
        events = dataset.events[kind]
        sampled = events[:reference_events]
        results.append(
            KindReads(
                kind=kind,
                elm=elm_counts[kind].items_read[aws.ELM_EXCEPTIONS] / len(events) + rules,
                elm_rules=rules,
                reference=reference_counts[kind].total_items_read / len(sampled),
                elm_events=len(events),
                reference_events=len(sampled),
                elm_item_signal=item_reads if kind is ExceptionKind.SIMPLE_ARN else None,
            )
        )
    return results


def _item_signal_reads(client: Any, dataset: Dataset, use_case: HandleComplianceChange) -> float:
    """ELM's exceptions-table items read per ARN-kind deletion, as configuration items."""
    from adapters.aws.dynamo_store import DynamoExceptionStore

    events = item_signal_events(dataset)
    arns = {e["detail"]["configurationItem"]["ARN"] for e in events}
    store = DynamoExceptionStore(client, aws.ELM_EXCEPTIONS)
    for record in dataset.records:
        if record.record_key.key in arns:
            store.add(record)  # open again, as before the compliance-change run
    with counting() as counter:
        for event in events:
            use_case.execute(json.dumps(event))
    return counter.items_read[aws.ELM_EXCEPTIONS] / len(events)


def measure_reads(size: int, events_per_kind: int, reference_events: int) -> list[ReadCounts]:
    """Items read per event by ELM (every event) and by the reference (the first few)."""
    dataset = generate(size, events_per_kind)
    partitions = _partition_sizes(dataset)
    results = []
    for reads in measure_dataset(dataset, reference_events):
        events = dataset.events[reads.kind]
        partition = sum(
            partitions[f"{e['detail']['awsAccountId']}_{_rule_id(e, dataset)}"] for e in events
        )
        results.append(
            ReadCounts(
                size=size,
                kind=reads.kind,
                elm=reads.elm,
                elm_rules=reads.elm_rules,
                elm_partition=partition / len(events),
                reference=reads.reference,
                elm_events=reads.elm_events,
                reference_events=reads.reference_events,
            )
        )
    return results


def _rule_id(event: dict[str, object], dataset: Dataset) -> int:
    detail = event["detail"]
    assert isinstance(detail, dict)
    return next(r.rule_id for r in dataset.rules if r.name == detail["configRuleName"])


def reads_per_event(
    sizes: Sequence[int], events_per_kind: int, reference_events: dict[int, int]
) -> tuple[Section, list[ReadCounts]]:
    """The figure: a row per size and kind, then the two targets."""
    method = (
        f"Tables of {', '.join(f'{s:,}' for s in sizes)} records (benchmarks/data.py: seeded, "
        f"spread at random over 200 accounts x 50 rules, the rules cycling through the three "
        f"kinds), DynamoDB in moto (in-process). Both designs' tables hold the same items. "
        f"Items read = ScannedCount of each Scan/Query plus items returned by GetItem, "
        f"counted for every call by a botocore `after-call` hook, rules table included. ELM "
        f"(`HandleComplianceChange` on ELM's DynamoDB adapters): all {events_per_kind} "
        f"deletion events of each kind. Reference (benchmarks/reference.py, the seed's access "
        f"pattern): the first "
        + ", ".join(f"{reference_events[s]} (at {s:,})" for s in sizes)
        + " of the same events, since each of its Scans reads the whole table whatever the "
        "event (the per-event figure is the same for any number of events; it keeps the run "
        "short). moto's Query and Scan are handed only the items they keep (the partition; "
        "the items from a page's start key on), so they return what moto returns, counts "
        "included, without re-sorting the table on every call (benchmarks/emulation.py)."
    )
    unavailable = aws.elm_adapters_available()
    if unavailable:
        return not_measured(TITLE, method, unavailable), []
    counts = [
        c for size in sizes for c in measure_reads(size, events_per_kind, reference_events[size])
    ]
    rows = [
        Row(
            f"items read/event, {c.kind.value}, {c.size:,} records",
            f"{c.elm:,.2f}",
            f"{c.reference:,.1f}",
            ratio(c.reference, c.elm),
        )
        for c in counts
    ]
    largest = max(sizes)
    scans = [c for c in counts if c.size == largest and c.kind is not ExceptionKind.SIMPLE_ID]
    worst = min(c.reference / c.elm for c in scans)
    rows.append(
        Row(
            f"ratio at {largest:,} records, ARN and composite kinds (the seed's Scans)",
            "—",
            "—",
            f"{worst:,.0f}x (lowest)",
            f">= {MIN_SCAN_RATIO:,}x",
            Met.of(worst >= MIN_SCAN_RATIO),
        )
    )
    smallest = min(sizes)

    def growth_of(kind: ExceptionKind) -> float:
        at = {c.size: c.elm for c in counts if c.kind is kind}
        return at[largest] / at[smallest]

    exact_growth = growth_of(ExceptionKind.SIMPLE_ID)
    beyond_partition = max(c.elm - c.elm_partition - c.elm_rules for c in counts)
    rows.append(
        Row(
            f"ELM reads/event, {largest:,} vs {smallest:,} records, exact-key kind "
            f"({ExceptionKind.SIMPLE_ID.value})",
            f"x{exact_growth:.2f}; reads beyond the event's partition: "
            f"{max(beyond_partition, 0):.2f}",
            target="do not grow with table size",
            met=Met.of(exact_growth <= 1.05),
        )
    )
    for kind in (ExceptionKind.SIMPLE_ARN, ExceptionKind.COMPOSITE):
        rows.append(
            Row(
                f"ELM reads/event, {largest:,} vs {smallest:,} records, {kind.value}",
                f"x{growth_of(kind):.1f} (the partition's records; nothing else of the table)",
                target="grow with the partition only (see figure 2)",
                met=Met.of(beyond_partition <= 0.01),
            )
        )
    notes = [
        "ELM's reads per event, split: "
        + "; ".join(
            f"{c.size:,}/{c.kind.value}: partition {c.elm_partition:.2f} + rules {c.elm_rules:.2f}"
            for c in counts
        )
        + ". The partition figure is the mean number of records under the events' "
        "`AccountId_RuleId`, counted from the data set. The simple Resource-ID kind reads "
        "its key with a GetItem, not the partition (figure 2).",
        "With the accounts and rules fixed at 200 x 50, a bigger table means fuller "
        "partitions (on average 1 + N/10,000 records around an event's record): the ARN "
        "and composite kinds read exactly one `AccountId_RuleId` partition (a Query) and "
        "nothing else of the table, so they grow with records per partition, not with the "
        "table. Why they cannot read one key: figure 2.",
    ]
    if worst < MIN_SCAN_RATIO:
        notes.append(
            "Missed: the ratio is the seed's Scan (the whole table) over ELM's partition; it "
            "falls short when partitions are large relative to the table."
        )
    notes.append(
        "The simple Resource-ID kind has no target ratio: the seed reads it with a GetItem "
        "too, so both read about one item there; the seed's cost for it is the rules-table "
        "Scan on every event."
    )
    return Section(TITLE, method, tuple(rows), tuple(notes)), counts


PARTITION_TITLE = "Reads per event vs partition size"
MAX_EXACT_READS = 2


def reads_per_partition(
    sizes: Sequence[int], events_per_kind: int, reference_events: int
) -> tuple[Section, list[tuple[int, KindReads]]]:
    """The figure: records under one `AccountId_RuleId` as the axis, a row per size and kind."""
    method = (
        f"One account, one region and one rule of each kind; {', '.join(f'{s:,}' for s in sizes)} "
        f"records under each rule's `AccountId_RuleId` (benchmarks/data.py "
        f"`generate_partition`), nothing else in the table. ELM: up to {events_per_kind} "
        f"deletion events of each kind, each naming an open record; reference: the first "
        f"{reference_events}. Counted as in figure 1."
    )
    unavailable = aws.elm_adapters_available()
    if unavailable:
        return not_measured(PARTITION_TITLE, method, unavailable), []
    measured = [
        (size, reads)
        for size in sizes
        for reads in measure_dataset(
            generate_partition(size, events_per_kind), reference_events, item_signal=True
        )
    ]
    rows = []
    for size, r in measured:
        rows.append(
            Row(
                f"items read/event, {r.kind.value}, {size:,} records in the partition",
                f"{r.elm:,.2f}",
                f"{r.reference:,.1f}",
                ratio(r.reference, r.elm),
                f"<= {MAX_EXACT_READS}" if r.kind is ExceptionKind.SIMPLE_ID else "—",
                Met.of(r.elm <= MAX_EXACT_READS) if r.kind is ExceptionKind.SIMPLE_ID else Met.NONE,
            )
        )
        if r.elm_item_signal is not None:
            rows.append(
                Row(
                    f"items read/event, {r.kind.value} from the configuration item (its "
                    f"recorded ARN), {size:,} records in the partition",
                    f"{r.elm_item_signal:,.2f}",
                    "—",
                    "—",
                    f"<= {MAX_EXACT_READS}",
                    Met.of(r.elm_item_signal <= MAX_EXACT_READS),
                )
            )
    notes = (
        "Simple Resource-ID: a GetItem on the event's resource ID; when it finds the open "
        "record, AWS Config's answer (needed anyway to confirm the deletion) gives the "
        "resource's name, and a second GetItem reads the record that name may key. The "
        "partition Query is the fallback only when the ID's record is missing, closed or of "
        "another region, since a record keyed by the name can then be found by nothing else "
        "before Config is asked.",
        "Simple Resource-ARN: an exception's ARN may leave out the account or the region "
        "(S3, IAM) and may name the resource by its name, so several keys name one resource; "
        "the exact key is the ARN AWS Config records for it, which comes with the "
        "configuration-item signal: ELM reads that key with a GetItem (the rows 'from the "
        "configuration item', the same deletions sent as AWS Config's records of them, each "
        "record open again first; the seed design has no such signal). A compliance change "
        "carries only the resource ID, so for it the partition Query is the read, and it "
        "grows with the partition.",
        "Composite: the event's resource is one member inside a comma-separated key; no "
        "key names it alone, so only the Query finds the records that hold it (an index of "
        "members would be a second table to keep in step).",
    )
    return Section(PARTITION_TITLE, method, tuple(rows), notes), measured
