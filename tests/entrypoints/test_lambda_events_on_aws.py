"""ELM's own events from the deployed handler on emulated AWS: a queue subscribed to the bus
receives one `Exception Closed` per close, none for a redelivered batch, and a bus that
refuses them fails no record (logged and counted as `publish-failed`).

moto routes a rule's matches to SQS as AWS does (the queue's body is the whole event); it
does not fail single PutEvents entries (see tests/adapters/test_event_publisher.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from emulated_aws import EmulatedAws, stored_item
from sample_estate import ACCOUNT, BUCKET_KEY, SG_KEY, FakeLambdaContext, LogCapture, load_event

from adapters.aws import AwsClients
from entrypoints import lambda_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.local.subscriber import drain, subscribe
from tests.entrypoints.test_lambda_handler import _emf_counts
from tests.event_schema import check_documented

BUS = "elm-events"
MALFORMED_MESSAGE = "e9b0d6a3-4c2f-4e8b-a1d7-3f5c9e2b8a64"


@pytest.fixture
def subscriber(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A queue subscribed to ELM's events on the bus, and the handler wired to publish there."""
    monkeypatch.setenv("ELM_EVENTS_BUS", BUS)
    events = emulated_aws.session.client("events")
    sqs = emulated_aws.session.client("sqs")
    events.create_event_bus(Name=BUS)
    url = subscribe(events, sqs, BUS, "elm-subscriber")
    lambda_handler.use_container_factory(
        lambda: build_container(
            AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
        )
    )
    yield lambda: drain(sqs, url)
    lambda_handler.use_container_factory(None)


def test_each_close_reaches_the_subscribed_queue_exactly_once(
    subscriber: Any, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    batch = load_event("lambda/sqs-batch.json")

    lambda_handler.handler(batch, lambda_context)
    first = subscriber()
    lambda_handler.handler(batch, lambda_context)  # redelivered: duplicates

    assert subscriber() == [], "a duplicate publishes nothing"
    assert sorted((e["source"], e["detail-type"]) for e in first) == [
        ("elm", "Exception Closed"),
        ("elm", "Exception Closed"),
    ]
    by_key = {e["detail"]["exceptionKey"]["Exception"]: e["detail"] for e in first}
    assert set(by_key) == {SG_KEY.key, BUCKET_KEY.key}
    for published in first:
        check_documented(published)
    sg = by_key[SG_KEY.key]
    assert sg["version"] == "1"
    assert sg["accountId"] == ACCOUNT
    assert sg["eventId"] == load_event("deleted-simple-id.json")["id"]
    assert sg["exceptionKey"]["AccountId_RuleId"] == SG_KEY.partition_key
    # Published after the write: the record is closed with this event in its History.
    history = stored_item(SG_KEY)["History"]["L"]
    assert [h["M"]["EventId"]["S"] for h in history] == [sg["eventId"]]


def test_a_bus_that_does_not_exist_fails_no_record_and_is_logged_and_counted(
    emulated_aws: EmulatedAws,
    monkeypatch: pytest.MonkeyPatch,
    captured_log: LogCapture,
    lambda_context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ELM_EVENTS_BUS", "no-such-bus")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    lambda_handler.use_container_factory(
        lambda: build_container(
            AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
        )
    )
    capsys.readouterr()
    try:
        response = lambda_handler.handler(load_event("lambda/sqs-batch.json"), lambda_context)
    finally:
        lambda_handler.use_container_factory(None)

    assert response == {"batchItemFailures": [{"itemIdentifier": MALFORMED_MESSAGE}]}
    assert stored_item(SG_KEY)["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
    failed = [line for line in captured_log.lines() if line.get("outcome") == "publish-failed"]
    assert len(failed) == 2
    assert {line["detail_type"] for line in failed} == {"Exception Closed"}
    assert all(line["level"] == "ERROR" for line in failed)
    assert _emf_counts(capsys.readouterr().out)["publish-failed"] == 2
