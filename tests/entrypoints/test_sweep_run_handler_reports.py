"""The scheduled sweep's Lambdas on the composition root's in-memory wiring: what a run
closes, the summary line and metrics of its last worker, failed items reported back (a
throttled Config call, a throttled Scan), dry run, the schedule's input and the settings.

The planner and the workers are built the Lambda's way (`run_parts` on a container) with
twins for the queue and the ledger; the queue is drained through the worker's handler.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from attrs import define, field
from sample_estate import FakeLambdaContext
from test_sweep_run_handler import drain, sqs_event

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from adapters.in_memory.sweep_run import InMemoryRunLedger, InMemoryWorkQueue
from application.errors import TransientError
from application.ports import UnreadableItem
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.composition.container import InMemoryModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.composition.sweep_run_wiring import RunParts, RunWiring, run_parts

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
LOST = RecordKey(ACCOUNT, 1, "sg-0lost")
ALIVE = RecordKey(ACCOUNT, 1, "sg-0alive")
UNTYPED = RecordKey(ACCOUNT, 2, "thing-1")


class BrokenScan(InMemoryExceptionStore):
    """A table whose Scan segments are throttled while ``throttled`` is set."""

    throttled = True

    def scan_open_segment(
        self,
        segment: int,
        total_segments: int,
        page_size: int = 100,
        on_unreadable: Callable[[UnreadableItem], None] | None = None,
    ) -> Iterator[ExceptionRecord]:
        if self.throttled:
            raise TransientError("ProvisionedThroughputExceededException")
        return super().scan_open_segment(segment, total_segments, page_size, on_unreadable)


@define
class Estate:
    """A lost deletion, a live resource and a record of unknown type; counts part builds."""

    settings: Settings = field(factory=Settings)
    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    inventory: InMemoryInventory = field(factory=InMemoryInventory)
    queue: InMemoryWorkQueue = field(factory=InMemoryWorkQueue)
    ledger: InMemoryRunLedger = field(factory=InMemoryRunLedger)
    builds: int = 0

    def fill(self) -> None:
        self.rules.add(
            Rule(1, "sg-rule", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG}))
        )
        self.rules.add(Rule(2, "untyped", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
        for key in (LOST, ALIVE):
            self.store.add(ExceptionRecord(key, REGION))
        self.store.add(ExceptionRecord(UNTYPED, REGION))
        self.inventory.put(ACCOUNT, REGION, SG, LOST.key, deleted=True)
        self.inventory.put(ACCOUNT, REGION, SG, ALIVE.key, deleted=False)

    def build(self) -> RunParts:
        self.builds += 1
        container = build_container(
            InMemoryModule(
                self.settings,
                rules=self.rules,
                store=self.store,
                inventory=self.inventory,
                clock=FixedClock(),
                timer=ManualTimer(),
            )
        )
        return run_parts(container, RunWiring(), queue=self.queue, ledger=self.ledger)

    def closed(self, key: RecordKey) -> bool:
        record = self.store.get(key)
        assert record is not None
        return record.is_closed


@pytest.fixture
def estate() -> Iterator[Estate]:
    estate = Estate()
    estate.fill()
    sweep_run_handler.use_parts_factory(estate.build)
    yield estate
    sweep_run_handler.use_parts_factory(None)


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """The handlers' log output goes into a buffer for the test (and back after)."""
    handler = sweep_run_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def _decoded(stream: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.splitlines() if line.strip().startswith("{")]


def _lines(log: io.StringIO, starting: str) -> list[dict[str, Any]]:
    return [x for x in _decoded(log.getvalue()) if str(x.get("message", "")).startswith(starting)]


def _metrics(stdout: str) -> dict[str, list[float]]:
    """Each metric's values over the EMF documents printed on stdout, in order."""
    values: dict[str, list[float]] = {}
    for document in _decoded(stdout):
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values.setdefault(metric["Name"], []).extend(
                    value if isinstance(value, list) else [value]
                )
    return values


def _start(event: object = None) -> dict[str, Any]:
    return sweep_run_handler.planner(event, FakeLambdaContext())  # type: ignore[arg-type]


def _work_once(queue: InMemoryWorkQueue) -> tuple[list[str], Mapping[str, Any]]:
    """One batch of what is on the queue through the worker; the failed ones given back."""
    batch = list(iter(queue.receive, None))
    response = sweep_run_handler.worker(sqs_event(batch), FakeLambdaContext())  # type: ignore[arg-type]
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    for received in batch:
        (queue.release if f"m{received.receipt}" in failed else queue.delete)(received.receipt)
    return [received.item.kind.value for received in batch], response


def test_a_scheduled_run_closes_lost_deletions_and_its_last_worker_logs_and_counts_it(
    estate: Estate, log_buffer: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    started = _start({"source": "aws.events"})
    drain(estate.queue, FakeLambdaContext())

    assert estate.closed(LOST)
    assert not estate.closed(ALIVE)
    assert not estate.closed(UNTYPED)
    assert started["run"] == f"sweep-{FakeLambdaContext().aws_request_id}"
    (line,) = _lines(log_buffer, f"sweep run {started['run']} finished")
    assert line["level"] == "INFO"
    assert line["message"].endswith("finished: closed 1, not-confirmed 1, unknown-type 1")
    assert line["run"] == started["run"]
    assert line["counts"] == {"closed": 1, "not-confirmed": 1, "unknown-type": 1}
    assert line["unknownTypes"] == 1
    assert line["configCalls"] == 1  # both IDs of the one group in one call
    assert line["failures"] == 0
    assert line["dryRun"] is False
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["sweep-run-started"] == [1]
    assert metrics["sweep-run-finished"] == [1]
    assert metrics["sweep-closed"] == [1]
    assert metrics["sweep-unknown-type"] == [1]
    assert metrics["sweep-failed"] == [0]
    assert "sweep-run-seconds" in metrics
    assert "sweep-item-failed" not in metrics


def test_a_throttled_config_call_gives_the_chunk_back_and_its_retry_finishes_the_run(
    estate: Estate, log_buffer: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    estate.inventory.failure = "ThrottlingException: Rate exceeded"
    started = _start()
    kinds, response = _work_once(estate.queue)
    assert set(kinds) == {"segment"}
    assert response["batchItemFailures"] == []

    kinds, response = _work_once(estate.queue)

    assert kinds == ["chunk"]
    assert len(response["batchItemFailures"]) == 1
    assert estate.store.writes == []
    (line,) = _lines(log_buffer, "sweep work item failed")
    assert line["level"] == "WARNING"
    assert line["run"] == started["run"]
    assert "ThrottlingException" in line["message"]
    assert f"{ACCOUNT}/{REGION}/{SG}" in line["message"]
    assert _metrics(capsys.readouterr().out)["sweep-item-failed"] == [1]
    assert estate.ledger.summary(started["run"]) is None, "the run waits for the chunk"

    estate.inventory.failure = None
    drain(estate.queue, FakeLambdaContext())

    assert estate.closed(LOST)
    summary = estate.ledger.summary(started["run"])
    assert summary is not None
    assert summary.failures == 1
    (finished,) = _lines(log_buffer, f"sweep run {started['run']} finished")
    assert finished["level"] == "WARNING", "a run that needed a retry says so"


def test_a_throttled_scan_gives_the_segments_back_and_nothing_is_queued_for_them(
    estate: Estate, log_buffer: io.StringIO
) -> None:
    broken = BrokenScan()
    for record in estate.store.scan_all():
        broken.add(record)
    estate.store = broken
    started = _start()

    kinds, response = _work_once(estate.queue)

    assert set(kinds) == {"segment"}
    assert len(response["batchItemFailures"]) == len(kinds)
    assert len(estate.queue) == len(kinds), "only the segments, given back"
    lines = _lines(log_buffer, "sweep work item failed")
    assert len(lines) == len(kinds)
    assert all("ProvisionedThroughputExceededException" in x["message"] for x in lines)

    broken.throttled = False
    drain(estate.queue, FakeLambdaContext())

    assert estate.closed(LOST)
    assert estate.ledger.summary(started["run"]) is not None


@pytest.mark.usefixtures("log_buffer")
def test_the_parts_are_built_once_per_lambda_container(estate: Estate) -> None:
    _start()
    drain(estate.queue, FakeLambdaContext())
    _start()
    drain(estate.queue, FakeLambdaContext())

    assert estate.builds == 1


def test_the_schedule_can_ask_for_a_dry_run(estate: Estate, log_buffer: io.StringIO) -> None:
    started = _start({"dryRun": True})
    drain(estate.queue, FakeLambdaContext())

    assert started["dryRun"] is True
    assert estate.store.writes == []
    (line,) = _lines(log_buffer, f"sweep run {started['run']} finished")
    assert line["dryRun"] is True
    assert line["counts"]["closed"] == 1


def test_a_dry_run_setting_is_the_default_the_schedule_can_override(estate: Estate) -> None:
    estate.settings = Settings(dry_run=True)
    sweep_run_handler.use_parts_factory(estate.build)

    assert _start()["dryRun"] is True
    assert _start({"dryRun": False})["dryRun"] is False


@pytest.mark.usefixtures("log_buffer", "estate")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"dryRun": "yes"}, "dryRun must be true or false"),
        ({"accounts": ACCOUNT}, "accounts must be a list of strings"),
        ({"regions": [1]}, "regions must be a list of strings"),
    ],
)
def test_a_bad_schedule_input_fails_with_its_reason(event: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _start(event)


@pytest.mark.usefixtures("log_buffer")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("variable", "value"),
    [("ELM_SWEEP_BUDGET_SECONDS", "soon"), ("ELM_SWEEP_SEGMENTS", "0")],
)
def test_a_bad_setting_fails_the_invocation_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv("ELM_SWEEP_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/q.fifo")
    sweep_run_handler.use_parts_factory(None)

    with pytest.raises(ValueError, match=variable):
        _start()
    with pytest.raises(ValueError, match=variable):
        sweep_run_handler.worker({"Records": []}, FakeLambdaContext())  # type: ignore[arg-type]


@pytest.mark.usefixtures("log_buffer")
@pytest.mark.parametrize("event", [{}, None, "scheduled"])
def test_any_scheduled_input_starts_a_full_run(estate: Estate, event: object) -> None:
    started = _start(event)
    drain(estate.queue, FakeLambdaContext())

    assert estate.closed(LOST)
    assert estate.ledger.summary(started["run"]) is not None


def test_the_schedule_can_limit_a_run_to_accounts_and_regions(estate: Estate) -> None:
    other = RecordKey("444455556666", 1, "sg-0elsewhere")
    estate.store.add(ExceptionRecord(other, REGION))
    estate.inventory.put(other.account_id, REGION, SG, other.key, deleted=True)

    _start({"accounts": [other.account_id], "regions": [REGION]})
    drain(estate.queue, FakeLambdaContext())

    assert estate.closed(other)
    assert not estate.closed(LOST)
