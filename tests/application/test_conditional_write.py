"""The one conditional write both use cases share: bounded re-read and retry on a lost race."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from attrs import define

from adapters.in_memory import InMemoryExceptionStore
from application.conditional_write import write_decision
from application.errors import ConflictError, TransientError
from domain.lifecycle import Duplicate, RecordUpdate, Trigger, decide
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionKind

NOW = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
KEY = RecordKey("111122223333", 7, "sg-0abc")


def _closing(record: ExceptionRecord) -> RecordUpdate | Duplicate:
    return decide(
        record,
        ExceptionKind.SIMPLE_ID,
        frozenset({record.key}),
        trigger=Trigger("event-1"),
        now=NOW,
        retention_days=90,
        resource_type="AWS::EC2::SecurityGroup",
        rule_types=frozenset(),
    )


@define
class AlwaysConflicting(InMemoryExceptionStore):
    """A store whose record always changes between the read and the write."""

    attempts: int = 0

    def apply(self, update: RecordUpdate) -> None:
        self.attempts += 1
        raise ConflictError("changed")


def test_an_unchanged_record_is_written_once() -> None:
    store = InMemoryExceptionStore()
    record = ExceptionRecord(KEY, "eu-west-1")
    store.add(record)

    decision = write_decision(store, record, _closing, max_attempts=3, dry_run=False)

    assert isinstance(decision, RecordUpdate)
    assert len(store.writes) == 1
    stored = store.get(KEY)
    assert stored is not None
    assert stored.is_closed


def test_a_lost_race_is_re_read_and_decided_again() -> None:
    store = InMemoryExceptionStore()
    stale = ExceptionRecord(KEY, "eu-west-1")
    store.add(stale)
    first = _closing(stale)
    assert isinstance(first, RecordUpdate)
    store.apply(first)  # another writer closes it first

    decision = write_decision(store, stale, _closing, max_attempts=3, dry_run=False)

    assert isinstance(decision, Duplicate)
    assert store.conflicts == 1
    assert len(store.writes) == 1


def test_a_record_that_keeps_changing_gives_up_with_a_transient_error() -> None:
    store = AlwaysConflicting()
    record = ExceptionRecord(KEY, "eu-west-1")
    store.add(record)

    with pytest.raises(TransientError, match="3 write attempts"):
        write_decision(store, record, _closing, max_attempts=3, dry_run=False)
    assert store.attempts == 3


def test_a_record_removed_since_it_was_read_gives_none() -> None:
    store = InMemoryExceptionStore()

    decision = write_decision(
        store, ExceptionRecord(KEY, "eu-west-1"), _closing, max_attempts=3, dry_run=False
    )

    assert decision is None
    assert store.writes == []


def test_a_dry_run_decides_without_writing() -> None:
    store = InMemoryExceptionStore()
    record = ExceptionRecord(KEY, "eu-west-1")
    store.add(record)

    decision = write_decision(store, record, _closing, max_attempts=3, dry_run=True)

    assert isinstance(decision, RecordUpdate)
    assert store.writes == []
    assert store.get(KEY) == record
