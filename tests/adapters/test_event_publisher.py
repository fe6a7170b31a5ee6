"""`EventBridgePublisher`: ten entries a call, failed entries sent again, never an exception.

What PutEvents does is from "Sending events with PutEvents" (Amazon EventBridge User Guide,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html) and "PutEvents"
(EventBridge API Reference): at most 10 entries a request; an entry's failure does not fail
the others; the response's `Entries` follow the request's order, a failed one with
`ErrorCode`/`ErrorMessage`, and `FailedEntryCount` counts them. moto never fails a single
entry, so partial failures are played with botocore's Stubber; delivery to a subscribed
queue is shown on moto.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from adapters.aws import AwsClients, EventBridgePublisher
from application.ports import ElmEvent, ElmEventKind
from entrypoints.local.subscriber import drain, subscribe

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _event(number: int, kind: ElmEventKind = ElmEventKind.EXCEPTION_CLOSED) -> ElmEvent:
    return ElmEvent(kind, {"version": "1", "n": number}, NOW)


def _subscribed_queue(bus: str) -> tuple[Any, str]:
    """An SQS queue receiving every `source: elm` event on ``bus``."""
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    if bus != "default":
        events.create_event_bus(Name=bus)
    return sqs, subscribe(events, sqs, bus, "elm-events-subscriber")


@pytest.mark.moto
def test_a_batch_of_23_events_reaches_a_subscribed_queue_once_each_in_calls_of_ten(
    moto: None,
) -> None:
    sqs, url = _subscribed_queue("elm-events")
    client = AwsClients().events()
    sizes: list[int] = []
    client.meta.events.register(
        "provide-client-params.events.PutEvents",
        lambda params, **_: sizes.append(len(params["Entries"])),
    )
    publisher = EventBridgePublisher(lambda: client, "elm-events")

    failures = publisher.publish([_event(n) for n in range(23)])

    assert failures == []
    assert sizes == [10, 10, 3]
    received = drain(sqs, url)
    assert sorted(b["detail"]["n"] for b in received) == list(range(23))
    assert {(b["source"], b["detail-type"]) for b in received} == {("elm", "Exception Closed")}


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    ).client("events")
    return client, Stubber(client)


def _answer(*failed: bool) -> dict[str, Any]:
    entries = [
        {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
        if f
        else {"EventId": f"id-{i}"}
        for i, f in enumerate(failed)
    ]
    return {"FailedEntryCount": sum(failed), "Entries": entries}


def _entries(count: int) -> dict[str, Any]:
    return {"Entries": [ANY] * count}


def test_only_the_failed_entries_are_sent_again() -> None:
    client, stubber = _stubbed()
    sent: list[list[int]] = []
    client.meta.events.register(
        "provide-client-params.events.PutEvents",
        lambda params, **_: sent.append([json.loads(e["Detail"])["n"] for e in params["Entries"]]),
    )
    stubber.add_response("put_events", _answer(False, True, False), _entries(3))
    stubber.add_response("put_events", _answer(False), _entries(1))
    with stubber:
        failures = EventBridgePublisher(lambda: client, "b", sleep=lambda _: None).publish(
            [_event(0), _event(1), _event(2)]
        )
    stubber.assert_no_pending_responses()
    assert failures == []
    assert sent == [[0, 1, 2], [1]]


def test_an_entry_still_failing_after_the_last_attempt_is_returned_with_its_reason() -> None:
    client, stubber = _stubbed()
    for _ in range(3):
        stubber.add_response("put_events", _answer(True), _entries(1))
    with stubber:
        failures = EventBridgePublisher(lambda: client, "b", sleep=lambda _: None).publish(
            [_event(7)]
        )
    stubber.assert_no_pending_responses()
    assert [(f.event.detail["n"], f.reason) for f in failures] == [
        (7, "InternalFailure: try again (after 3 attempts)")
    ]


def test_a_call_that_fails_whole_is_a_failure_returned_not_an_exception() -> None:
    client, stubber = _stubbed()
    for _ in range(2):
        stubber.add_client_error("put_events", "AccessDeniedException", "not allowed")
    with stubber:
        failures = EventBridgePublisher(
            lambda: client, "b", max_attempts=2, sleep=lambda _: None
        ).publish([_event(1), _event(2)])
    assert len(failures) == 2
    assert all("AccessDeniedException" in f.reason for f in failures)


def test_an_entry_over_256_kb_is_refused_without_a_call() -> None:
    client, stubber = _stubbed()
    huge = ElmEvent(ElmEventKind.RECONCILIATION_FINISHED, {"pad": "x" * 300_000}, NOW)
    with stubber:
        failures = EventBridgePublisher(lambda: client, "b").publish([huge])
    assert [f.reason for f in failures] == ["entry larger than PutEvents takes"]


def test_nothing_to_publish_builds_no_client() -> None:
    def no_client() -> Any:
        raise AssertionError("a client was built")

    assert EventBridgePublisher(no_client, "b").publish([]) == []
