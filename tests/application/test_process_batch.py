"""ProcessBatch: each message's outcome in order; only invalid and failed messages are retried."""

from __future__ import annotations

import json

from application.ports import Message
from application.process_batch import ProcessBatch
from domain.outcomes import Outcome
from tests.application.estate import (
    ACCOUNT,
    OTHER_ACCOUNT,
    SG,
    SIMPLE_ID,
    Estate,
    event,
)


def _message(message_id: str, body: object) -> Message:
    return Message(message_id, body if isinstance(body, str) else json.dumps(body))


def test_each_message_gets_its_outcome_in_order_and_only_failures_are_retried(
    estate: Estate,
) -> None:
    closed = estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    estate.existing(SG, "sg-2")
    estate.exception(SIMPLE_ID, "sg-2")
    forged = event(SIMPLE_ID, SG, "sg-1", account=OTHER_ACCOUNT) | {"account": ACCOUNT}
    messages = [
        _message("m-closed", event(SIMPLE_ID, SG, "sg-1")),
        _message("m-invalid", "not json"),
        _message("m-not-confirmed", event(SIMPLE_ID, SG, "sg-2")),
        _message("m-no-match", event(SIMPLE_ID, SG, "sg-3")),
        _message("m-rejected", forged),
    ]
    report = ProcessBatch(estate.handler()).execute(messages)
    assert [(m.message_id, r.outcome) for m, r in report.results] == [
        ("m-closed", Outcome.CLOSED),
        ("m-invalid", Outcome.INVALID),
        ("m-not-confirmed", Outcome.NOT_CONFIRMED),
        ("m-no-match", Outcome.NO_MATCH),
        ("m-rejected", Outcome.REJECTED),
    ]
    assert report.failed_message_ids == ["m-invalid"]
    assert estate.record(closed).is_closed


def test_a_failing_message_does_not_stop_the_ones_after_it(estate: Estate) -> None:
    key = estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    failing = estate.handler()
    estate.inventory.failure = "Throttling"
    report = ProcessBatch(failing).execute([_message("m-1", event(SIMPLE_ID, SG, "sg-1"))])
    assert report.failed_message_ids == ["m-1"]
    assert not estate.record(key).is_closed
    estate.inventory.failure = None
    report = ProcessBatch(failing).execute(
        [_message("m-1", event(SIMPLE_ID, SG, "sg-1")), _message("m-2", "{}")]
    )
    assert [r.outcome for _, r in report.results] == [Outcome.CLOSED, Outcome.INVALID]
    assert report.failed_message_ids == ["m-2"]


def test_a_redelivered_batch_writes_nothing_new(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    batch = [_message("m-1", event(SIMPLE_ID, SG, "sg-1", event_id="e1"))]
    process = ProcessBatch(estate.handler())
    process.execute(batch)
    writes = list(estate.store.writes)
    report = process.execute(batch)
    assert [r.outcome for _, r in report.results] == [Outcome.DUPLICATE]
    assert estate.store.writes == writes


def test_an_empty_batch_reports_nothing(estate: Estate) -> None:
    report = ProcessBatch(estate.handler()).execute([])
    assert report.results == ()
    assert report.failed_message_ids == []
