"""`apply_update` builds the record anew (it runs for every in-memory write): it must carry
every field of `ExceptionRecord`, so a field added later cannot be silently reset."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from domain.lifecycle import RecordUpdate, Trigger, apply_update, decide
from domain.records import Action, ExceptionRecord, HistoryEntry, RecordKey
from domain.rules import ExceptionKind

NOW = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)


def test_apply_update_sets_what_the_update_says_and_keeps_every_other_field() -> None:
    record = ExceptionRecord(
        RecordKey("111122223333", 3, "vol-1,vol-2,vol-3"),
        "eu-west-1",
        status="EXPIRED",
        resource_type="AWS::EC2::Volume",
        deleted_members=frozenset({"vol-1"}),
        history=(HistoryEntry("e0", NOW, Action.MEMBER_DELETED, "vol-1"),),
        last_modified_by="someone",
        update_timestamp="01/01/2026 00:00:00",
    )
    update = decide(
        record,
        ExceptionKind.COMPOSITE,
        frozenset({"vol-2"}),
        trigger=Trigger("e1"),
        now=NOW,
        retention_days=90,
        resource_type="AWS::EC2::Volume",
        rule_types=frozenset({"AWS::EC2::Volume"}),
    )
    assert isinstance(update, RecordUpdate)

    after = apply_update(record, update)

    assert after == attrs.evolve(
        record,
        deleted_members=frozenset({"vol-1", "vol-2"}),
        history=(*record.history, HistoryEntry("e1", NOW, Action.MEMBER_DELETED, "vol-2")),
        last_modified_by="ELM_AUTOMATION",
        update_timestamp="03/04/2026 10:15:30",
    )
    assert {f.name for f in attrs.fields(ExceptionRecord)} == {
        "record_key",
        "region",
        "status",
        "resource_type",
        "deleted_members",
        "history",
        "last_modified_by",
        "update_timestamp",
        "ttl",
    }, "a new ExceptionRecord field must be carried by apply_update"
