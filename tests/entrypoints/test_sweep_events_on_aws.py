"""The scheduled sweep's own events on emulated AWS: the planner and the workers (wired from
the environment, the FIFO sweep queue on moto) publish to ELM's bus, and a queue subscribed
to it by a rule receives one `Exception Closed` per record the run closed, then one
`Reconciliation Finished` from the run's last worker, each as docs/events.schema.json
documents it; a second run closes nothing and says only that it finished.

moto routes a rule's matches to an SQS target as EventBridge does when the target sets no
input: the message is the entire event, with `source`, `detail-type` and `detail` (AWS CDK
API Reference, "class SqsQueue", `message`: "default the entire EventBridge event",
https://docs.aws.amazon.com/cdk/api/latest/docs/@aws-cdk_aws-events-targets.SqsQueue.html).
What moto cannot show: a target receiving an event more than once, and single entries of a
PutEvents call failing ("Sending events with PutEvents", Amazon EventBridge User Guide;
tests/adapters/test_event_publisher.py covers those with a stubbed client).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from emulated_aws import RULES_TABLE, EmulatedAws, deploy_sweep, lambda_turn, stored_item
from sample_estate import BUCKET_KEY, SG_KEY, FakeLambdaContext

from adapters.aws import AwsClients, DynamoRuleCatalog
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.composition.sweep_run_wiring import RunWiring, run_parts
from entrypoints.local.subscriber import drain, subscribe
from tests.event_schema import check_documented

BUS = "elm-events"


@pytest.fixture
def subscriber(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The sample estate's rules with their resource types, a queue subscribed to ELM's events
    on the bus, and the sweep's Lambdas wired from the environment to publish there; a call
    runs the sweep (planner, then workers until the queue is empty) and returns what the
    subscribed queue received."""
    monkeypatch.setenv("ELM_EVENTS_BUS", BUS)
    for name, value in deploy_sweep(emulated_aws.session).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    rules = DynamoRuleCatalog(AwsClients(emulated_aws.session).dynamodb(), RULES_TABLE)
    for rule in (
        Rule(
            SG_KEY.rule_id,
            "prod-sg-no-open-ingress",
            ExceptionFormat.RESOURCE_ID,
            ExceptionType.SIMPLE,
            frozenset({"AWS::EC2::SecurityGroup"}),
        ),
        Rule(
            BUCKET_KEY.rule_id,
            "prod-s3-bucket-logging",
            ExceptionFormat.RESOURCE_ARN,
            ExceptionType.SIMPLE,
            frozenset({"AWS::S3::Bucket"}),
        ),
    ):
        rules.add(rule)
    events = emulated_aws.session.client("events")
    sqs = emulated_aws.session.client("sqs")
    events.create_event_bus(Name=BUS)
    url = subscribe(events, sqs, BUS, "elm-sweep-subscriber")
    sweep_run_handler.use_parts_factory(
        lambda: run_parts(
            build_container(
                AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
            ),
            RunWiring.from_env(os.environ),
        )
    )
    handler = sweep_run_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(io.StringIO())  # the sweep's log lines: other tests check them
    yield lambda run: _sweep(emulated_aws, run, lambda: drain(sqs, url))
    handler.setStream(previous)
    sweep_run_handler.use_parts_factory(None)


def _sweep(emulated_aws: EmulatedAws, request_id: str, received: Any) -> tuple[str, Any]:
    """One scheduled run (its invocation's request id given): the run id and the events."""
    context = FakeLambdaContext(aws_request_id=request_id)
    run = sweep_run_handler.planner({}, context)["run"]  # type: ignore[arg-type]
    assert lambda_turn(emulated_aws.session, os.environ["ELM_SWEEP_QUEUE_URL"]) > 0
    return run, received()


@pytest.mark.moto
def test_a_sweep_announces_each_close_once_then_that_it_finished(subscriber: Any) -> None:
    run, first = subscriber("run-1")

    assert sorted(e["detail-type"] for e in first) == [
        "Exception Closed",
        "Exception Closed",
        "Reconciliation Finished",
    ]
    for event in first:
        assert event["source"] == "elm"
        check_documented(event)
    closes = {
        e["detail"]["exceptionKey"]["Exception"]: e["detail"]
        for e in first
        if e["detail-type"] == "Exception Closed"
    }
    (finished,) = (e["detail"] for e in first if e["detail-type"] == "Reconciliation Finished")
    assert set(closes) == {SG_KEY.key, BUCKET_KEY.key}
    assert {c["sweepRun"] for c in closes.values()} == {finished["sweepRun"]} == {run}
    assert {c["eventId"] for c in closes.values()} == {None}
    assert finished["complete"] is True
    assert finished["outcomes"] == {"closed": 2}
    # Published after the write: each announced record is closed, the run in its History.
    for key in (SG_KEY, BUCKET_KEY):
        item = stored_item(key)
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert finished["sweepRun"] in item["History"]["L"][-1]["M"]["EventId"]["S"]

    _, second = subscriber("run-2")

    assert [e["detail-type"] for e in second] == ["Reconciliation Finished"], (
        "a record closed by the first run is not announced again"
    )
    check_documented(second[0])
