"""ELM's own events: one per change written, after the write, never for a dry run or a
duplicate; a bus that refuses them fails nothing and undoes nothing."""

from __future__ import annotations

import json

from adapters.in_memory import InMemoryEventPublisher, ManualTimer
from application.announce import DETAIL_VERSION, PublishEvents
from application.ports import ElmEventKind, Message
from application.process_batch import ProcessBatch
from application.reconcile import Reconcile, SweepRequest
from domain.outcomes import Outcome
from tests.application.estate import (
    ACCOUNT,
    COMPOSITE_ID,
    REGION,
    SG,
    SIMPLE_ID,
    VOLUME,
    Estate,
    event,
)

CLOSED = ElmEventKind.EXCEPTION_CLOSED
MEMBER = ElmEventKind.EXCEPTION_MEMBER_DELETED
FINISHED = ElmEventKind.RECONCILIATION_FINISHED


def _batch(
    estate: Estate, publisher: InMemoryEventPublisher, *, dry_run: bool = False
) -> ProcessBatch:
    return ProcessBatch(estate.handler(dry_run=dry_run), PublishEvents(publisher, estate.clock))


def _messages(*bodies: object) -> list[Message]:
    return [Message(f"m-{i}", json.dumps(b)) for i, b in enumerate(bodies)]


def test_a_close_and_a_member_deletion_in_one_batch_are_published_together_after_the_writes(
    estate: Estate,
) -> None:
    estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    composite = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
    estate.deleted(VOLUME, "vol-1")
    estate.existing(VOLUME, "vol-2")
    publisher = InMemoryEventPublisher()
    sg_event = event(SIMPLE_ID, SG, "sg-1", event_id="evt-sg")

    report = _batch(estate, publisher).execute(
        _messages(sg_event, event(COMPOSITE_ID, VOLUME, "vol-1", event_id="evt-vol"))
    )

    assert [r.outcome for _, r in report.results] == [Outcome.CLOSED, Outcome.MEMBER_DELETED]
    assert len(publisher.calls) == 1, "the batch's events go to the bus in one hand-over"
    assert [e.kind for e in publisher.published] == [CLOSED, MEMBER]
    closed, member = (e.detail for e in publisher.published)
    assert closed == {
        "version": DETAIL_VERSION,
        "exceptionKey": {"AccountId_RuleId": f"{ACCOUNT}_{SIMPLE_ID.rule_id}", "Exception": "sg-1"},
        "accountId": ACCOUNT,
        "region": REGION,
        "ruleId": SIMPLE_ID.rule_id,
        "ruleName": SIMPLE_ID.name,
        "resourceType": SG,
        "resourceId": "sg-1",
        "members": [],
        "eventId": "evt-sg",
        "sweepRun": None,
        "time": estate.clock.now().isoformat().replace("+00:00", "Z"),
    }
    assert member["exceptionKey"]["Exception"] == composite.key
    assert member["members"] == ["vol-1"]
    assert member["eventId"] == "evt-vol"
    assert report.events == tuple(publisher.published)
    assert report.publish_failures == ()


def test_a_duplicate_and_a_dry_run_publish_nothing(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    publisher = InMemoryEventPublisher()
    body = event(SIMPLE_ID, SG, "sg-1")

    dry = _batch(estate, publisher, dry_run=True).execute(_messages(body))
    assert dry.results[0][1].outcome is Outcome.CLOSED  # what would have been
    assert publisher.published == []

    _batch(estate, publisher).execute(_messages(body))
    again = _batch(estate, publisher).execute(_messages(body))
    assert again.results[0][1].outcome is Outcome.DUPLICATE
    assert [e.kind for e in publisher.published] == [CLOSED], "once per change"


def test_outcomes_that_write_nothing_publish_nothing(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-2")
    estate.existing(SG, "sg-2")
    publisher = InMemoryEventPublisher()

    _batch(estate, publisher).execute(
        _messages(event(SIMPLE_ID, SG, "sg-2"), event(SIMPLE_ID, SG, "sg-9"), "not json")
    )

    assert publisher.calls == []


def test_a_bus_that_refuses_fails_no_message_and_undoes_no_write(estate: Estate) -> None:
    record_key = estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    publisher = InMemoryEventPublisher(failure="bus unreachable")

    report = _batch(estate, publisher).execute(_messages(event(SIMPLE_ID, SG, "sg-1")))

    assert report.failed_message_ids == []
    assert estate.record(record_key).is_closed
    assert [(f.event.kind, f.reason) for f in report.publish_failures] == [
        (CLOSED, "bus unreachable")
    ]


def test_publishing_off_hands_nothing_to_any_bus(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    report = ProcessBatch(estate.handler(), PublishEvents(None, estate.clock)).execute(
        _messages(event(SIMPLE_ID, SG, "sg-1"))
    )
    assert report.results[0][1].outcome is Outcome.CLOSED
    assert report.events == ()


def _sweep(estate: Estate, publisher: InMemoryEventPublisher) -> Reconcile:
    return Reconcile(
        estate.rules,
        estate.store,
        estate.inventory,
        estate.clock,
        ManualTimer(),
        estate.policy,
        publish=PublishEvents(publisher, estate.clock),
    )


def test_a_sweep_publishes_its_changes_then_that_it_finished(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1", resource_type=SG)
    estate.deleted(SG, "sg-1")
    estate.exception(COMPOSITE_ID, "vol-1,vol-2", resource_type=VOLUME)
    estate.deleted(VOLUME, "vol-1")
    estate.existing(VOLUME, "vol-2")
    publisher = InMemoryEventPublisher()

    report = _sweep(estate, publisher).execute(SweepRequest(run_id="run-1"))

    assert len(publisher.calls) == 1
    kinds = [e.kind for e in publisher.published]
    assert sorted(k.value for k in kinds[:-1]) == [CLOSED.value, MEMBER.value]
    assert kinds[-1] is FINISHED
    for change in publisher.published[:-1]:
        assert change.detail["sweepRun"] == "run-1"
        assert change.detail["eventId"] is None
    closed = next(e.detail for e in publisher.published if e.kind is CLOSED)
    assert (closed["ruleName"], closed["resourceType"], closed["resourceId"]) == (
        SIMPLE_ID.name,
        SG,
        "sg-1",
    )
    member = next(e.detail for e in publisher.published if e.kind is MEMBER)
    assert (member["resourceType"], member["members"]) == (VOLUME, ["vol-1"])
    finished = publisher.published[-1].detail
    assert finished["sweepRun"] == "run-1"
    assert finished["complete"] is True
    assert finished["outcomes"] == {"closed": 1, "member-deleted": 1}
    assert finished["recordsScanned"] == report.records_scanned == 2
    assert report.events == tuple(publisher.published)


def test_a_dry_run_sweep_publishes_nothing(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1", resource_type=SG)
    estate.deleted(SG, "sg-1")
    publisher = InMemoryEventPublisher()

    _sweep(estate, publisher).execute(SweepRequest(dry_run=True))

    assert publisher.calls == []


def test_a_sweep_whose_events_are_refused_still_reports_and_keeps_its_closes(
    estate: Estate,
) -> None:
    record_key = estate.exception(SIMPLE_ID, "sg-1", resource_type=SG)
    estate.deleted(SG, "sg-1")
    publisher = InMemoryEventPublisher(failure="denied")

    report = _sweep(estate, publisher).execute()

    assert estate.record(record_key).is_closed
    assert not report.failed
    assert [f.event.kind for f in report.publish_failures] == [CLOSED, FINISHED]
