"""The distributed sweep end to end on moto: ELM's AWS adapters, a whole run, counted.

The exceptions and rules tables, the run ledger table and the sweep queue are moto's
(in-process `mock_aws`); the planner and workers are ELM's `StartSweep` and `SweepWorker` on
`DynamoExceptionStore`, `DynamoRunLedger` and `SqsWorkQueue`, driven in this process: the
planner queues the segments, then workers receive up to ten messages at a time, run each
item and delete its message, until the queue is empty. AWS Config is the counting inventory
of benchmarks/sweep.py (moto's Config cannot report deleted resources). Every AWS call and
every DynamoDB item read is counted through botocore's hooks (benchmarks/counting.py).

What moto cannot show: AWS Config's real throttling (the counting inventory answers at
once), Lambda's scaling of the workers and SQS's delivery and visibility timings; the
records are put into moto's table directly (set-up, not measured).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog
from adapters.aws.sweep_messages import work_from_json
from adapters.aws.sweep_run import DynamoRunLedger, SqsWorkQueue, create_run_table
from adapters.aws.tables import create_tables
from adapters.in_memory import FixedClock
from application.sweep_report import SweepRequest
from application.sweep_run import RunSettings, StartSweep, SweepWorker, WorkFailed
from application.sweep_run_ports import WorkKind
from benchmarks.aws import counted_moto
from benchmarks.counting import counting
from benchmarks.emulation import indexed_tables, record_item
from benchmarks.report import Met, Row, Section
from benchmarks.sweep import SWEEP_RULES, CountingInventory, generate_estate, paced_sweep

__all__ = ["sweep_on_moto"]

EXCEPTIONS = "Config-ResourceExceptions"
RULES = "Config-Master"
RUNS = "ELM-SweepRuns"


@contextlib.contextmanager
def retention_read_directly() -> Iterator[None]:
    """moto's ReceiveMessage checks each message's retention by building every attribute of
    the queue (its message counts walk the whole queue): cubic in the queue's depth. This
    reads the one attribute it needs; the answer is the same."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    original = SQSBackend.is_message_valid_based_on_retention_period

    def valid(self: SQSBackend, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        period = int(queue.message_retention_period)  # type: ignore[attr-defined]
        return bool(period + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = valid  # type: ignore[method-assign]
    try:
        yield
    finally:
        SQSBackend.is_message_valid_based_on_retention_period = original  # type: ignore[method-assign]


def _load(client: Any, records: Any) -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
    for record in records:
        backend.put_item(EXCEPTIONS, record_item(record))


def sweep_on_moto(
    records: int,
    accounts: int,
    settings: RunSettings | None = None,
    *,
    wanted: int | None = None,
) -> Section:
    """A whole sweep of a generated estate on moto, its wall time and its counts.

    ``wanted``: the size the figure asks for, when the run is smaller (the note says why).
    """
    settings = settings or RunSettings()
    estate = generate_estate(records, accounts)
    with contextlib.ExitStack() as stack:
        stack.enter_context(counted_moto())
        stack.enter_context(indexed_tables())
        stack.enter_context(retention_read_directly())
        clients = AwsClients()
        dynamodb = clients.dynamodb()
        sqs = clients.sqs()
        create_tables(dynamodb, EXCEPTIONS, RULES)
        create_run_table(dynamodb, RUNS)
        rules = DynamoRuleCatalog(dynamodb, RULES)
        for rule in SWEEP_RULES:
            rules.add(rule)
        _load(dynamodb, estate.records)
        queue_url = sqs.create_queue(QueueName="elm-sweep.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        store = DynamoExceptionStore(dynamodb, EXCEPTIONS)
        ledger = DynamoRunLedger(dynamodb, RUNS)
        queue = SqsWorkQueue(sqs, queue_url)
        inventory = CountingInventory(estate.deleted)
        clock = FixedClock()
        sweep = paced_sweep(rules, store, inventory, clock)
        worker = SweepWorker(sweep, store, ledger, queue, clock, settings)
        counter = stack.enter_context(counting())
        start = time.perf_counter()
        run_id = StartSweep(ledger, queue, clock, settings).execute(
            SweepRequest(run_id="bench-sweep-moto"), dry_run=False
        )
        segments = chunks = failed = 0
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            done = []
            for message in messages:
                item = work_from_json(message["Body"])
                inventory.current = item.item_id
                try:
                    worker.execute(item)
                except WorkFailed:
                    failed += 1
                    continue
                done.append(message)
                if item.kind is WorkKind.CHUNK:
                    chunks += 1
                else:
                    segments += 1
            if done:
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done)
                    ],
                )
        seconds = time.perf_counter() - start
        summary = ledger.summary(run_id)
    closed = int(summary["counts"].get("closed", 0)) if summary else 0
    reads = counter.items_read
    exceptions_read = reads.get(EXCEPTIONS, 0)
    dynamo_calls = counter.operations("dynamodb")
    sqs_calls = counter.operations("sqs")
    size = f"{records:,} records, {accounts:,} accounts x {len(estate.regions)} regions"
    rows = (
        Row(
            f"sweep on moto, wall time, {size}",
            f"{seconds:,.1f} s ({records / seconds:,.0f} records/s, one process)",
        ),
        Row(
            "sweep on moto, work items",
            f"{segments + chunks:,} ({segments} segments + {chunks:,} chunks); "
            f"failed attempts {failed}",
        ),
        Row(
            "sweep on moto, AWS Config calls",
            f"{summary['configCalls'] if summary else 0:,} (counted inventory)",
        ),
        Row(
            "sweep on moto, DynamoDB items read (exceptions table)",
            f"{exceptions_read:,} ({dynamo_calls.get('Scan', 0):,} Scan pages, "
            f"{dynamo_calls.get('BatchGetItem', 0):,} BatchGetItem calls of ≤ 100 keys "
            f"by the chunks, {dynamo_calls.get('GetItem', 0):,} GetItem calls in all tables)",
            target="each record twice (its segment, its chunk)",
            met=Met.of(exceptions_read == 2 * records),
        ),
        Row(
            "sweep on moto, records closed",
            f"{closed:,} of {len(estate.deleted):,}; summary written: "
            + ("yes" if summary else "no"),
            target="every one, the run's end known",
            met=Met.of(closed == len(estate.deleted) and summary is not None),
        ),
        Row(
            "sweep on moto, calls to DynamoDB and SQS",
            f"DynamoDB {sum(dynamo_calls.values()):,} "
            f"({', '.join(f'{op} {n:,}' for op, n in dynamo_calls.items())}); "
            f"SQS {sum(sqs_calls.values()):,} "
            f"({', '.join(f'{op} {n:,}' for op, n in sqs_calls.items())})",
        ),
    )
    method = (
        f"The organisation-scale estate at {records:,} records over {accounts:,} accounts in "
        "moto (in-process mock_aws): ELM's exceptions and rules tables, the run ledger table "
        "and the sweep queue (FIFO, a message group per account and region), with ELM's AWS "
        "adapters (DynamoExceptionStore, DynamoRunLedger, "
        "SqsWorkQueue). The planner and one worker loop run in this process: receive up to "
        "ten messages, run each item, delete the finished ones, until the queue is empty. "
        "AWS Config is the counting inventory (moto's Config cannot report deleted "
        "resources). Calls and items read are counted through botocore's hooks; the "
        "records are put into moto directly before the clock starts. moto cannot show AWS "
        "Config's real throttling, Lambda's scaling of the workers, nor SQS's timings."
    )
    notes: tuple[str, ...] = ()
    if wanted is not None and wanted > records:
        pace = records / seconds
        notes = (
            f"Run at {records:,} records, not {wanted:,}: moto ran {pace:,.0f} records/s "
            "here in one process (milliseconds a call), so "
            f"{wanted:,} would take about {wanted / pace / 60:,.0f} min at this pace, "
            "beyond the budget of the whole `make bench`.",
        )
    return Section("The sweep end to end on moto", method, rows, notes)
