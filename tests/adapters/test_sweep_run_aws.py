"""The distributed sweep on moto: the SQS work queue, the DynamoDB run ledger, a whole run.

moto shows the calls and their conditions; it cannot show SQS's visibility timeout running
out (the tests give a message back at once) nor DynamoDB's atomicity under concurrent
callers (tests/reliability runs that on a moto server made atomic).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog
from adapters.aws.sweep_messages import work_from_json, work_to_json
from adapters.aws.sweep_run import DynamoRunLedger, SqsWorkQueue, create_run_table
from adapters.in_memory import FixedClock, InMemoryInventory, ManualTimer
from application.errors import TransientError
from application.handle_change import Policy
from application.reconcile import Reconcile
from application.sweep_report import GroupKey, SweepRequest
from application.sweep_run import RunSettings, StartSweep, SweepWorker, WorkFailed
from application.sweep_run_ports import RunDelta, RunSummary, SweepWork, WorkKind
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

EXCEPTIONS_TABLE = "Test-ResourceExceptions"  # the tables tests/adapters/conftest.py creates
RULES_TABLE = "Test-Master"

RUNS_TABLE = "Test-SweepRuns"
ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
RULE = Rule(1, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG}))
STARTED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def ledger(dynamodb: DynamoDBClient) -> DynamoRunLedger:
    create_run_table(dynamodb, RUNS_TABLE)
    return DynamoRunLedger(dynamodb, RUNS_TABLE)


@pytest.fixture
def sqs(moto: None) -> SQSClient:
    return AwsClients().session.client("sqs")  # type: ignore[no-any-return]


@pytest.fixture
def queue_url(sqs: SQSClient) -> str:
    return sqs.create_queue(QueueName="elm-sweep")["QueueUrl"]


def test_a_work_item_reads_back_from_its_message_body() -> None:
    item = SweepWork(
        "run-1",
        "segment-0-of-4/chunk-2",
        WorkKind.CHUNK,
        True,
        total_segments=4,
        segment=0,
        group=GroupKey(ACCOUNT, REGION, SG),
        keys=(RecordKey(ACCOUNT, 1, "sg-1"), RecordKey(ACCOUNT, 1, "sg-2")),
        accounts=frozenset({ACCOUNT}),
        regions=None,
    )
    assert work_from_json(work_to_json(item)) == item


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("not json", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"kind": "other"}', "kind"),
        ('{"kind": "chunk", "run": "", "item": "x"}', "'run'"),
        (
            '{"kind": "chunk", "run": "r", "item": "x", "dryRun": false, "segments": 1,'
            ' "segment": 0, "keys": [["1", 2]]}',
            "key must be",
        ),
    ],
)
def test_a_bad_message_body_fails_with_a_reason_naming_it(body: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        work_from_json(body)


def test_work_items_are_sent_ten_a_call(sqs: SQSClient, queue_url: str) -> None:
    calls: list[int] = []
    sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    items = [SweepWork("run-1", f"i{n}", WorkKind.SEGMENT, False) for n in range(25)]
    SqsWorkQueue(sqs, queue_url).send(items)

    assert calls == [10, 10, 5]
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "25"


def test_large_items_are_sent_in_calls_under_sqss_256_kib(sqs: SQSClient, queue_url: str) -> None:
    """SQS refuses a SendMessageBatch whose bodies add up to more than 256 KiB
    ("SendMessageBatch", Amazon SQS API Reference); moto does not check it."""
    sizes: list[int] = []
    sqs.meta.events.register(
        "before-parameter-build.sqs.SendMessageBatch",
        lambda params, **_: sizes.append(sum(len(e["MessageBody"]) for e in params["Entries"])),
    )
    keys = tuple(RecordKey(ACCOUNT, 1, f"k{n:03d}-" + "x" * 990) for n in range(90))
    items = [SweepWork("run-1", f"i{n}", WorkKind.CHUNK, False, keys=keys) for n in range(10)]

    SqsWorkQueue(sqs, queue_url).send(items)

    assert len(sizes) > 1
    assert all(size <= 256 * 1024 for size in sizes)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "10"


def test_on_a_fifo_queue_each_item_goes_in_its_lanes_group_and_a_resend_adds_nothing(
    sqs: SQSClient,
) -> None:
    """Chunks of one account and region share a message group; segments have their own. The
    deduplication id is the run and item: sending the same items again within SQS's
    deduplication interval adds no message ("Exactly-once processing in Amazon SQS")."""
    url = sqs.create_queue(QueueName="elm-sweep.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    other = "444455556666"
    items = [
        SweepWork("run-1", "segment-0-of-1", WorkKind.SEGMENT, False),
        *(
            SweepWork(
                "run-1",
                f"segment-0-of-1/chunk-{n}",
                WorkKind.CHUNK,
                False,
                group=GroupKey(ACCOUNT if n < 2 else other, REGION, SG),
                keys=(RecordKey(ACCOUNT, 1, f"sg-{n}"),),
            )
            for n in range(3)
        ),
    ]
    queue = SqsWorkQueue(sqs, url)
    queue.send(items)
    queue.send(items)

    received = []
    for _ in range(10):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
        ).get("Messages", [])
        for message in messages:
            received.append((message["Attributes"]["MessageGroupId"], message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not messages:
            break
    groups = sorted(group for group, _ in received)
    assert groups == sorted(
        ["run-1#segment-0-of-1", f"{ACCOUNT}#{REGION}", f"{ACCOUNT}#{REGION}", f"{other}#{REGION}"]
    )
    assert sorted(work_from_json(body).item_id for _, body in received) == sorted(
        i.item_id for i in items
    )


def test_an_item_is_counted_once_and_a_planner_plans_once(ledger: DynamoRunLedger) -> None:
    ledger.open("run-1", STARTED, False, planned=2)
    ledger.open("run-1", STARTED, True, planned=99)  # a second open changes nothing
    assert ledger.plan("run-1", "segment-0", 3) == 3
    assert ledger.plan("run-1", "segment-0", 7) == 3  # a retry gets the first count

    first = ledger.finish("run-1", "segment-0", RunDelta({"closed": 2}, 1, 5))
    again = ledger.finish("run-1", "segment-0", RunDelta({"closed": 2}, 1, 5))

    assert first is not None
    assert (first.planned, first.finished, first.counts) == (5, 1, {"closed": 2})
    assert not first.dry_run
    assert again is None
    totals = ledger.totals("run-1")
    assert totals is not None
    assert (totals.finished, totals.config_calls, totals.records_read) == (1, 1, 5)


def test_only_the_first_close_of_a_run_wins(ledger: DynamoRunLedger) -> None:
    ledger.open("run-1", STARTED, False, planned=1)
    summary = RunSummary("run-1", False, 1, 0, 0, 0, {}, STARTED, STARTED)
    assert ledger.close(summary)
    assert not ledger.close(summary)
    written = ledger.summary("run-1")
    assert written is not None
    assert written["workItems"] == 1


def test_a_whole_run_on_sqs_and_dynamodb_closes_every_record_and_writes_its_summary(
    dynamodb: DynamoDBClient, ledger: DynamoRunLedger, sqs: SQSClient, queue_url: str
) -> None:
    store = DynamoExceptionStore(dynamodb, EXCEPTIONS_TABLE)
    rules = DynamoRuleCatalog(dynamodb, RULES_TABLE)
    rules.add(RULE)
    config = InMemoryInventory()
    keys = []
    for n in range(45):
        key = RecordKey(ACCOUNT if n % 2 else "444455556666", 1, f"sg-{n:04d}")
        store.add(ExceptionRecord(key, REGION))
        config.put(key.account_id, REGION, SG, key.key, deleted=n != 0)
        keys.append(key)
    clock = FixedClock(STARTED)
    queue = SqsWorkQueue(sqs, queue_url)
    settings = RunSettings(segments=3, chunk_records=10)
    sweep = Reconcile(rules, store, config, clock, ManualTimer(), Policy())
    worker = SweepWorker(sweep, store, ledger, queue, clock, settings)

    run_id = StartSweep(ledger, queue, clock, settings).execute(SweepRequest("run-9"), False)
    summaries = []
    for _ in range(100):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            try:
                result = worker.execute(work_from_json(message["Body"]))
            except WorkFailed:
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if result.summary is not None:
                summaries.append(result.summary)

    [summary] = summaries
    assert summary.run_id == run_id
    assert summary.counts == {"closed": 44, "not-confirmed": 1}
    totals = ledger.totals(run_id)
    assert totals is not None
    assert totals.finished == totals.planned == summary.work_items
    assert all(r.is_closed for r in (store.get(k) for k in keys[1:]) if r is not None)
    written = ledger.summary(run_id)
    assert written is not None
    assert written["counts"] == {"closed": 44, "not-confirmed": 1}


def test_a_finish_cancelled_by_a_concurrent_one_is_tried_again(
    dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers finishing at once contend for the run's counter item: DynamoDB cancels the
    transactions that conflict ("TransactionConflict", TransactionCanceledException in the
    DynamoDB API Reference), having written nothing. moto never does; the cancellation is
    put on the wire here, twice, before the call goes through."""
    create_run_table(dynamodb, RUNS_TABLE)
    waits: list[float] = []
    ledger = DynamoRunLedger(dynamodb, RUNS_TABLE, sleep=waits.append)
    ledger.open("run-1", STARTED, False, planned=1)
    conflicts = iter([True, True])

    def cancel(**_: object) -> None:
        if next(conflicts, False):
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
                },
                "TransactWriteItems",
            )

    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", cancel)
    totals = ledger.finish("run-1", "segment-0", RunDelta({"closed": 1}, 1, 1))

    assert totals is not None
    assert (totals.finished, totals.counts) == (1, {"closed": 1})
    assert len(waits) == 2


def test_a_finish_that_keeps_conflicting_fails_the_item_for_its_retry(
    dynamodb: DynamoDBClient,
) -> None:
    create_run_table(dynamodb, RUNS_TABLE)
    ledger = DynamoRunLedger(dynamodb, RUNS_TABLE, attempts=3, sleep=lambda _s: None)
    ledger.open("run-1", STARTED, False, planned=1)

    def cancel(**_: object) -> None:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
            },
            "TransactWriteItems",
        )

    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", cancel)
    with pytest.raises(TransientError, match="TransactionConflict"):
        ledger.finish("run-1", "segment-0", RunDelta({"closed": 1}, 1, 1))
