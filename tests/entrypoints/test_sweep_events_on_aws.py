"""The sweep Lambda's own events on emulated AWS: a queue subscribed to the bus by a rule
receives one `Exception Closed` per record the run closed, then one `Reconciliation
Finished`, each as docs/events.schema.json documents it; a second run closes nothing and
says only that it finished.

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
from emulated_aws import RULES_TABLE, EmulatedAws, stored_item
from sample_estate import BUCKET_KEY, SG_KEY

from adapters.aws import AwsClients, DynamoRuleCatalog
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints import sweep_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.local.subscriber import drain, subscribe
from tests.entrypoints.test_sweep_handler_on_aws import ScheduledContext
from tests.event_schema import check_documented

BUS = "elm-events"


@pytest.fixture
def subscriber(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The sample estate's rules with their resource types, a queue subscribed to ELM's events
    on the bus, and the sweep Lambda wired from the environment to publish there."""
    monkeypatch.setenv("ELM_EVENTS_BUS", BUS)
    monkeypatch.setenv("ELM_SWEEP_CALLS_PER_SECOND", "100")  # a test need not wait on pacing
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
    sweep_handler.use_container_factory(
        lambda: build_container(
            AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
        )
    )
    handler = sweep_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(io.StringIO())  # the sweep's log line: other tests check it
    yield lambda: drain(sqs, url)
    handler.setStream(previous)
    sweep_handler.use_container_factory(None)


@pytest.mark.moto
def test_a_sweep_announces_each_close_once_then_that_it_finished(subscriber: Any) -> None:
    summary = sweep_handler.handler({}, ScheduledContext())
    first = subscriber()

    assert summary["outcomes"] == {"closed": 2}
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
    assert {c["sweepRun"] for c in closes.values()} == {finished["sweepRun"]}
    assert {c["eventId"] for c in closes.values()} == {None}
    assert finished["complete"] is True
    assert finished["outcomes"] == {"closed": 2}
    # Published after the write: each announced record is closed, the run in its History.
    for key in (SG_KEY, BUCKET_KEY):
        item = stored_item(key)
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert finished["sweepRun"] in item["History"]["L"][-1]["M"]["EventId"]["S"]

    sweep_handler.handler({}, ScheduledContext())
    second = subscriber()

    assert [e["detail-type"] for e in second] == ["Reconciliation Finished"], (
        "a record closed by the first run is not announced again"
    )
    check_documented(second[0])
