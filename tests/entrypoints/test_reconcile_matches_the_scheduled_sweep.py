"""`elm reconcile` and the scheduled sweep give the same result on the same table.

The table mixes what a sweep meets: a group larger than a chunk, two accounts and regions,
resources by ID and by name, composites with some members gone, live resources, a rule
without resource types (unknown type), another environment's rule (out of scope) and a
record that TTL will delete. The same table is reconciled three ways: `elm reconcile` (the
plan in this process, the table as one segment), the deployed planner and workers through
their Lambda handlers on a FIFO-like queue (four segments), and the plan in this process cut
finer (five segments, chunks of seven). Each must close and record exactly the same things.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from attrs import define, field
from sample_estate import FakeLambdaContext
from typer.testing import CliRunner

from adapters.aws.sweep_messages import work_to_json
from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from adapters.in_memory.sweep_run import InMemoryRunLedger, InMemoryWorkQueue
from application.reconcile import Reconcile, SweepRequest
from application.sweep_in_process import SweepInProcess
from application.sweep_run import RunSettings
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.cli import app
from entrypoints.composition.container import InMemoryModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.composition.sweep_run_wiring import RunWiring, run_parts

ACCOUNTS = ("111122223333", "444455556666")
REGIONS = ("eu-west-1", "us-east-1")
SG = "AWS::EC2::SecurityGroup"
BUCKET = "AWS::S3::Bucket"
VOLUME = "AWS::EC2::Volume"
RULES = (
    Rule(1, "prod-sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})),
    Rule(2, "prod-s3", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE, frozenset({BUCKET})),
    Rule(3, "prod-ebs", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, frozenset({VOLUME})),
    Rule(4, "prod-untyped", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE),
    Rule(5, "test-sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})),
)


@define
class Table:
    """One copy of the estate: its tables and AWS Config's view."""

    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    inventory: InMemoryInventory = field(factory=InMemoryInventory)

    def module(self) -> InMemoryModule:
        return InMemoryModule(
            Settings(rule_prefix="prod-"),
            rules=self.rules,
            store=self.store,
            inventory=self.inventory,
            clock=FixedClock(),
            timer=ManualTimer(),
        )

    def result(self) -> dict[RecordKey, tuple[str, frozenset[str], int]]:
        """Each record's status, deleted members and number of History entries."""
        return {
            r.record_key: (r.status, r.deleted_members, len(r.history))
            for r in self.store.scan_all()
        }


def estate() -> Table:
    table = Table()
    for rule in RULES:
        table.rules.add(rule)
    n = itertools.count()
    for account, region in itertools.product(ACCOUNTS, REGIONS):
        big = account == ACCOUNTS[0] and region == REGIONS[0]
        for i in range(230 if big else 25):
            sg = f"sg-{next(n):08x}"
            table.store.add(ExceptionRecord(RecordKey(account, 1, sg), region))
            table.inventory.put(account, region, SG, sg, deleted=i % 3 != 0)
            if i % 10 == 0:  # another environment's rule on the same resource
                table.store.add(ExceptionRecord(RecordKey(account, 5, sg), region))
        for i in range(6):
            name = f"logs-{account[-4:]}-{region}-{i}"
            table.store.add(ExceptionRecord(RecordKey(account, 2, f"arn:aws:s3:::{name}"), region))
            table.inventory.put(account, region, BUCKET, name, name=name, deleted=i % 2 == 0)
        for i in range(4):
            members = [f"vol-{next(n):08x}" for _ in range(3)]
            table.store.add(ExceptionRecord(RecordKey(account, 3, ",".join(members)), region))
            for position, volume in enumerate(members):
                table.inventory.put(account, region, VOLUME, volume, deleted=position <= i % 3)
        table.store.add(ExceptionRecord(RecordKey(account, 4, f"i-{next(n):08x}"), region))
        table.store.add(
            ExceptionRecord(
                RecordKey(account, 1, f"sg-ttl{next(n):04x}"), region, ttl=1_900_000_000
            )
        )
    return table


def by_cli(table: Table) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["reconcile", "--json"], obj=build_container(table.module()))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def by_scheduled_run(table: Table, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The planner on its schedule, then workers draining the queue through the handler."""
    queue = InMemoryWorkQueue()
    ledger = InMemoryRunLedger()
    parts = run_parts(build_container(table.module()), RunWiring(), queue=queue, ledger=ledger)
    sweep_run_handler.use_parts_factory(lambda: parts)
    try:
        context = FakeLambdaContext()
        run = sweep_run_handler.planner({}, context)["run"]  # type: ignore[arg-type]
        for _ in range(1000):
            batch = list(itertools.islice(iter(queue.receive, None), 10))
            if not batch:
                break
            event = {
                "Records": [
                    {
                        "messageId": f"m{r.receipt}",
                        "receiptHandle": f"h{r.receipt}",
                        "body": work_to_json(r.item),
                        "attributes": {
                            "ApproximateReceiveCount": str(r.receive_count),
                            "MessageGroupId": r.item.lane,
                        },
                        "messageAttributes": {},
                        "md5OfBody": "",
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:elm-sweep.fifo",
                        "awsRegion": "us-east-1",
                    }
                    for r in batch
                ]
            }
            response = sweep_run_handler.worker(event, context)  # type: ignore[arg-type]
            assert response["batchItemFailures"] == []
            for received in batch:
                queue.delete(received.receipt)
    finally:
        sweep_run_handler.use_parts_factory(None)
    assert len(queue) == 0
    summary = ledger.summary(run)
    assert summary is not None, "the run did not finish"
    return Counter(summary.counts)


def by_finer_plan(table: Table) -> dict[str, int]:
    container = build_container(table.module())
    report = SweepInProcess(
        container.get(Reconcile),
        table.store,
        FixedClock(),
        ManualTimer(),
        RunSettings(segments=5, chunk_records=7),
    ).execute(SweepRequest())
    assert report.complete
    return {o.value: n for o, n in report.counts.items() if n}


def test_elm_reconcile_and_the_scheduled_sweep_change_the_same_records_the_same_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli, scheduled, walked = estate(), estate(), estate()
    before = cli.result()

    from_cli = by_cli(cli)
    from_run = by_scheduled_run(scheduled, monkeypatch)
    from_walk = by_finer_plan(walked)

    assert cli.result() == scheduled.result() == walked.result()
    assert cli.result() != before  # the sweep did close and record something
    # The outcomes agree, but for `duplicate`: a distributed run re-reads a chunk's records.
    assert from_cli["outcomes"] == from_walk
    assert {k: v for k, v in from_run.items() if k != "duplicate"} == from_walk
    assert from_walk["closed"] > 0
    assert from_walk["member-deleted"] > 0
    assert from_walk["unknown-type"] == len(ACCOUNTS) * len(REGIONS)
    assert from_walk["out-of-scope"] > 0
    assert len(from_cli["expiring"]) == len(ACCOUNTS) * len(REGIONS)
