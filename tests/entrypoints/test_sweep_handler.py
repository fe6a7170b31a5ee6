"""The scheduled sweep Lambda on an injected in-memory container."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from attrs import define, field
from injector import Injector

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from application.errors import TransientError
from application.ports import UnreadableItem
from application.reconcile import SweepLimits
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints import sweep_handler
from entrypoints.composition.container import InMemoryModule, build_container
from entrypoints.composition.settings import Settings

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
LOST = RecordKey(ACCOUNT, 1, "sg-0lost")
ALIVE = RecordKey(ACCOUNT, 1, "sg-0alive")
UNTYPED = RecordKey(ACCOUNT, 2, "thing-1")


@define
class SweepContext:
    """The Lambda context attributes the handler and its logger read."""

    remaining_ms: int = 900_000
    function_name: str = "elm-reconcile"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:999900001111:function:elm-reconcile"
    aws_request_id: str = "6d1f0c2e-7a3b-4c5d-8e9f-0a1b2c3d4e5f"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@define
class Estate:
    """A lost deletion, a live resource and a record of unknown type; counts container builds."""

    settings: Settings = field(factory=Settings)
    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    inventory: InMemoryInventory = field(factory=InMemoryInventory)
    builds: int = 0

    def __attrs_post_init__(self) -> None:
        self.rules.add(Rule(1, "sg-rule", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
        self.rules.add(Rule(2, "untyped", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
        for key in (LOST, ALIVE):
            self.store.add(ExceptionRecord(key, REGION, resource_type=SG))
        self.store.add(ExceptionRecord(UNTYPED, REGION))
        self.inventory.put(ACCOUNT, REGION, SG, LOST.key, deleted=True)
        self.inventory.put(ACCOUNT, REGION, SG, ALIVE.key, deleted=False)

    def build(self) -> Injector:
        self.builds += 1
        return build_container(
            InMemoryModule(
                self.settings,
                rules=self.rules,
                store=self.store,
                inventory=self.inventory,
                clock=FixedClock(),
                timer=ManualTimer(),
            )
        )

    def closed(self, key: RecordKey) -> bool:
        record = self.store.get(key)
        assert record is not None
        return record.is_closed


@pytest.fixture
def estate() -> Iterator[Estate]:
    estate = Estate()
    sweep_handler.use_container_factory(estate.build)
    yield estate
    sweep_handler.use_container_factory(None)


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """The handler's log output goes into a buffer for the test (and back after)."""
    handler = sweep_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def _decoded(stream: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.splitlines() if line.strip().startswith("{")]


def _summary_lines(log: io.StringIO) -> list[dict[str, Any]]:
    return [x for x in _decoded(log.getvalue()) if x["message"].startswith("reconciliation sweep")]


def _metrics(stdout: str) -> dict[str, float]:
    """Metric values of the EMF documents printed on stdout."""
    values: dict[str, float] = {}
    for document in _decoded(stdout):
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] = value[0] if isinstance(value, list) else value
    return values


def test_a_scheduled_run_closes_lost_deletions_logs_one_summary_line_and_counts(
    estate: Estate, log_buffer: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = sweep_handler.handler({"source": "aws.events"}, SweepContext())

    assert estate.closed(LOST)
    assert not estate.closed(ALIVE)
    assert summary["outcomes"] == {"closed": 1, "not-confirmed": 1, "unknown-type": 1}
    assert summary["run_id"] == "reconcile-6d1f0c2e-7a3b-4c5d-8e9f-0a1b2c3d4e5f"
    lines = _summary_lines(log_buffer)
    assert len(lines) == 1
    assert lines[0]["level"] == "INFO"
    assert lines[0]["outcomes"] == summary["outcomes"]
    assert lines[0]["unresolved"][0]["exception"] == "thing-1"
    metrics = _metrics(capsys.readouterr().out)
    assert metrics["reconcile-closed"] == 1
    assert metrics["reconcile-unknown-type"] == 1
    assert metrics["reconcile-failed"] == 0
    assert metrics["reconcile-config-calls"] == 1
    assert metrics["reconcile-config-calls-by-name"] == 0  # both IDs were reported by ID


def test_a_failed_group_fails_the_invocation_so_the_alarm_fires(
    estate: Estate, log_buffer: io.StringIO
) -> None:
    estate.inventory.failure = "ThrottlingException: Rate exceeded"

    with pytest.raises(sweep_handler.SweepFailed, match="ThrottlingException"):
        sweep_handler.handler({}, SweepContext())

    (line,) = _summary_lines(log_buffer)
    assert line["level"] == "ERROR"
    assert line["failures"][0]["group"] == f"{ACCOUNT}/{REGION}/{SG}"
    assert estate.store.writes == []


@pytest.mark.usefixtures("log_buffer")
def test_the_container_is_built_once_per_lambda_container(estate: Estate) -> None:
    sweep_handler.handler({}, SweepContext())
    sweep_handler.handler({}, SweepContext())

    assert estate.builds == 1


def test_the_budget_is_cut_to_the_time_the_invocation_has_left(
    estate: Estate, log_buffer: io.StringIO
) -> None:
    # 31.5 s left, less the 30 s margin: 1.5 s, shorter than the wait before a second call
    # to the same account (one call every 2 s), so the sweep stops after the first group.
    estate.store.add(ExceptionRecord(RecordKey(ACCOUNT, 1, "sg-0b"), "us-west-2", resource_type=SG))
    estate.settings = Settings(
        sweep_limits=SweepLimits(max_calls_per_second=0.5, budget_seconds=600.0)
    )

    summary = sweep_handler.handler({}, SweepContext(remaining_ms=31_500))

    assert summary["complete"] is False
    assert summary["stopped"]["resume_from"] == f"{ACCOUNT}/us-west-2/{SG}"
    (line,) = _summary_lines(log_buffer)
    assert line["level"] == "WARNING"


@pytest.mark.usefixtures("log_buffer")
def test_the_schedule_can_resume_from_a_cursor_and_ask_for_a_dry_run(estate: Estate) -> None:
    summary = sweep_handler.handler(
        {"resumeFrom": f"{ACCOUNT}/{REGION}/{SG}", "dryRun": True}, SweepContext()
    )

    assert summary["dry_run"] is True
    assert summary["outcomes"]["closed"] == 1
    assert estate.store.writes == []


@pytest.mark.usefixtures("log_buffer", "estate")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("event", "message"),
    [({"resumeFrom": "nowhere"}, "ACCOUNT/REGION/TYPE"), ({"dryRun": "yes"}, "dryRun")],
)
def test_a_bad_schedule_input_fails_with_its_reason(event: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sweep_handler.handler(event, SweepContext())


@pytest.mark.usefixtures("log_buffer")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_bad_setting_fails_the_invocation_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ELM_SWEEP_BUDGET_SECONDS", "soon")
    sweep_handler.use_container_factory(None)

    with pytest.raises(ValueError, match="ELM_SWEEP_BUDGET_SECONDS"):
        sweep_handler.handler({}, SweepContext())


class BrokenScan(InMemoryExceptionStore):
    """A table whose Scan is throttled."""

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        raise TransientError("ProvisionedThroughputExceededException")


@pytest.mark.usefixtures("log_buffer")
def test_a_scan_that_fails_fails_the_invocation(estate: Estate) -> None:
    estate.store = BrokenScan()

    with pytest.raises(sweep_handler.SweepFailed, match="did not read the whole table"):
        sweep_handler.handler({}, SweepContext())


@pytest.mark.usefixtures("log_buffer")
@pytest.mark.parametrize("event", [{}, None, "scheduled"])
def test_any_scheduled_input_starts_a_full_sweep(estate: Estate, event: object) -> None:
    summary = sweep_handler.handler(event, SweepContext())

    assert summary["complete"] is True
    assert estate.closed(LOST)
