"""The events ELM publishes have the shape docs/events.schema.json documents, per kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest

from adapters.in_memory import InMemoryEventPublisher, ManualTimer
from application.announce import PublishEvents
from application.ports import ElmEvent, ElmEventKind, Message
from application.process_batch import ProcessBatch
from application.reconcile import Reconcile, SweepRequest
from tests.application.estate import COMPOSITE_ID, SG, SIMPLE_ID, VOLUME, Estate, event
from tests.event_schema import SCHEMA, check_documented


def _validate(published: list[ElmEvent]) -> None:
    for e in published:
        # As a subscriber receives it: through JSON.
        detail = json.loads(json.dumps(e.detail))
        jsonschema.validate(detail, SCHEMA, format_checker=jsonschema.FormatChecker())
        check_documented({"source": "elm", "detail-type": e.kind.value, "detail": detail})


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_event_paths_events_have_the_documented_shape(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    estate.exception(COMPOSITE_ID, "vol-1,vol-2")
    estate.deleted(VOLUME, "vol-1")
    estate.existing(VOLUME, "vol-2")
    publisher = InMemoryEventPublisher()
    bodies = [event(SIMPLE_ID, SG, "sg-1"), event(COMPOSITE_ID, VOLUME, "vol-1")]
    batch = ProcessBatch(estate.handler(), PublishEvents(publisher, estate.clock))

    batch.execute([Message(f"m-{i}", json.dumps(b)) for i, b in enumerate(bodies)])

    kinds = {e.kind for e in publisher.published}
    assert kinds == {ElmEventKind.EXCEPTION_CLOSED, ElmEventKind.EXCEPTION_MEMBER_DELETED}
    _validate(publisher.published)


def test_a_sweeps_events_have_the_documented_shape(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1", resource_type=SG)
    estate.deleted(SG, "sg-1")
    estate.exception(COMPOSITE_ID, "vol-1,vol-2", resource_type=VOLUME)
    estate.deleted(VOLUME, "vol-1")
    estate.existing(VOLUME, "vol-2")
    publisher = InMemoryEventPublisher()
    sweep = Reconcile(
        estate.rules,
        estate.store,
        estate.inventory,
        estate.clock,
        ManualTimer(),
        estate.policy,
        publish=PublishEvents(publisher, estate.clock),
    )

    sweep.execute(SweepRequest(run_id="run-1"))

    assert {e.kind for e in publisher.published} == set(ElmEventKind)
    _validate(publisher.published)


def test_a_detail_that_drifts_from_the_schema_is_caught() -> None:
    drifted = ElmEvent(
        ElmEventKind.RECONCILIATION_FINISHED,
        {"version": "1", "sweepRun": "run-1", "complete": "yes"},
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(jsonschema.ValidationError):
        _validate([drifted])
