"""The distributed sweep's Lambdas: the planner queues a run, the worker drains it in batches
with partial failures, and the last item's worker logs the run's summary."""

from __future__ import annotations

import io
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sample_estate import FakeLambdaContext

from adapters.aws.sweep_messages import work_to_json
from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from adapters.in_memory.sweep_run import InMemoryRunLedger, InMemoryWorkQueue, Received
from application.handle_change import Policy
from application.reconcile import Reconcile
from application.sweep_run import RunSettings, StartSweep, SweepWorker
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.composition.settings import SettingsError
from entrypoints.composition.sweep_run_wiring import RunParts, RunWiring

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"


@pytest.fixture
def queue() -> InMemoryWorkQueue:
    return InMemoryWorkQueue()


@pytest.fixture
def store() -> InMemoryExceptionStore:
    return InMemoryExceptionStore()


@pytest.fixture
def parts(queue: InMemoryWorkQueue, store: InMemoryExceptionStore) -> Iterator[RunParts]:
    rules = InMemoryRuleCatalog()
    rules.add(Rule(1, "sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})))
    config = InMemoryInventory()
    for n in range(30):
        key = RecordKey(ACCOUNT, 1, f"sg-{n:03d}")
        store.add(ExceptionRecord(key, REGION))
        config.put(ACCOUNT, REGION, SG, key.key, deleted=True)
    clock = FixedClock()
    ledger = InMemoryRunLedger()
    settings = RunSettings(segments=2, chunk_records=10)
    sweep = Reconcile(rules, store, config, clock, ManualTimer(), Policy())
    built = RunParts(
        StartSweep(ledger, queue, clock, settings),
        SweepWorker(sweep, store, ledger, queue, clock, settings),
        ledger,
    )
    sweep_run_handler.use_parts_factory(lambda: built)
    yield built
    sweep_run_handler.use_parts_factory(None)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The handlers' JSON log lines (the logger's stream is swapped back after)."""
    handler = sweep_run_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def sqs_event(
    received: list[Received],
    bodies: dict[int, str] | None = None,
    groups: dict[int, str] | None = None,
) -> dict[str, Any]:
    """The event Lambda hands the worker for these messages of the FIFO sweep queue."""
    bodies = bodies or {}
    groups = groups or {}
    return {
        "Records": [
            {
                "messageId": f"m{r.receipt}",
                "receiptHandle": f"h{r.receipt}",
                "body": bodies.get(r.receipt, work_to_json(r.item)),
                "attributes": {
                    "ApproximateReceiveCount": str(r.receive_count),
                    "MessageGroupId": groups.get(r.receipt, r.item.lane),
                    "MessageDeduplicationId": f"d{r.receipt}",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:999900001111:elm-sweep.fifo",
                "awsRegion": "us-east-1",
            }
            for r in received
        ]
    }


def drain(queue: InMemoryWorkQueue, context: FakeLambdaContext) -> list[dict[str, Any]]:
    responses = []
    for _ in range(50):
        batch = list(itertools.islice(iter(queue.receive, None), 10))
        if not batch:
            return responses
        response = dict(sweep_run_handler.worker(sqs_event(batch), context))
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for r in batch:
            (queue.release if f"m{r.receipt}" in failed else queue.delete)(r.receipt)
        responses.append(response)
    raise AssertionError("the queue did not drain")


def test_the_planner_starts_a_run_and_the_workers_finish_it_with_a_summary_line(
    parts: RunParts,
    queue: InMemoryWorkQueue,
    store: InMemoryExceptionStore,
    log_lines: io.StringIO,
) -> None:
    context = FakeLambdaContext()
    started = sweep_run_handler.planner({}, context)  # type: ignore[arg-type]
    assert started == {"run": f"sweep-{context.aws_request_id}", "segments": 2, "dryRun": False}
    assert len(queue) == 2

    drain(queue, context)

    assert all(r.is_closed for r in store.scan_all())
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line]
    finished = [line for line in lines if "finished" in str(line.get("message", ""))]
    assert len(finished) == 1
    assert finished[0]["counts"] == {"closed": 30}
    assert finished[0]["run"] == started["run"]


def test_a_bad_message_fails_alone_and_the_others_are_done(
    parts: RunParts, queue: InMemoryWorkQueue
) -> None:
    context = FakeLambdaContext()
    sweep_run_handler.planner({}, context)  # type: ignore[arg-type]
    batch = list(iter(queue.receive, None))
    bad = batch[0].receipt
    response = sweep_run_handler.worker(
        sqs_event(batch, {bad: '{"kind": "chunk"}'}),
        context,  # type: ignore[arg-type]
    )
    assert response["batchItemFailures"] == [{"itemIdentifier": f"m{bad}"}]


def test_a_failed_message_sends_back_the_rest_of_its_group_and_other_groups_go_on(
    parts: RunParts, queue: InMemoryWorkQueue
) -> None:
    """One account and region is worked one item at a time: once an item of a group failed,
    the batch's later items of that group are reported back with it (unprocessed), while
    another group's item is done ("Using Lambda with Amazon SQS", partial batch responses
    for FIFO queues: Lambda retries the group's failed message before its later ones)."""
    context = FakeLambdaContext()
    sweep_run_handler.planner({}, context)  # type: ignore[arg-type]
    first, second = list(iter(queue.receive, None))
    bad = Received(99, first.item, 1)
    response = sweep_run_handler.worker(
        sqs_event([bad, first, second], {99: '{"kind": "chunk"}'}),
        context,  # type: ignore[arg-type]
    )
    assert response["batchItemFailures"] == [
        {"itemIdentifier": "m99"},
        {"itemIdentifier": f"m{first.receipt}"},
    ]


def test_a_dry_run_flag_that_is_not_a_boolean_is_refused(parts: RunParts) -> None:
    with pytest.raises(ValueError, match="dryRun must be true or false"):
        sweep_run_handler.planner({"dryRun": "yes"}, FakeLambdaContext())  # type: ignore[arg-type]


def test_the_run_settings_read_from_the_environment_and_name_a_bad_variable() -> None:
    wiring = RunWiring.from_env(
        {"ELM_SWEEP_SEGMENTS": "8", "ELM_SWEEP_CHUNK_RECORDS": "50", "ELM_SWEEP_QUEUE_URL": "q"}
    )
    assert (wiring.run.segments, wiring.run.chunk_records, wiring.queue_url) == (8, 50, "q")
    assert RunWiring.from_env({}).runs_table == "ELM-SweepRuns"
    with pytest.raises(SettingsError, match="ELM_SWEEP_SEGMENTS"):
        RunWiring.from_env({"ELM_SWEEP_SEGMENTS": "0"})
    with pytest.raises(SettingsError, match="ELM_SWEEP_CHUNK_RECORDS"):
        RunWiring.from_env({"ELM_SWEEP_CHUNK_RECORDS": "many"})


class ShortContext(FakeLambdaContext):
    """An invocation with less time left than the worker keeps in reserve."""

    def get_remaining_time_in_millis(self) -> int:
        return int(sweep_run_handler.SAFETY_MARGIN_SECONDS * 1000) - 1


def test_a_chunk_is_given_back_untouched_when_the_invocation_has_no_time_left(
    parts: RunParts, queue: InMemoryWorkQueue, store: InMemoryExceptionStore
) -> None:
    context = FakeLambdaContext()
    sweep_run_handler.planner({}, context)  # type: ignore[arg-type]
    segments = list(iter(queue.receive, None))
    sweep_run_handler.worker(sqs_event(segments), context)  # type: ignore[arg-type]
    for received in segments:
        queue.delete(received.receipt)
    chunks = list(iter(queue.receive, None))
    assert chunks

    response = sweep_run_handler.worker(sqs_event(chunks), ShortContext())  # type: ignore[arg-type]

    assert len(response["batchItemFailures"]) == len(chunks)
    assert not any(r.is_closed for r in store.scan_all())
    for received in chunks:
        queue.release(received.receipt)
    drain(queue, context)
    assert all(r.is_closed for r in store.scan_all())
