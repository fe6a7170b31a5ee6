"""Twins that misbehave on purpose: races lost to another writer, and unreachable stores."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attrs import define, evolve, field

from adapters.in_memory import InMemoryExceptionStore, InMemoryRuleCatalog
from application.errors import ConflictError, TransientError
from domain.lifecycle import RecordUpdate
from domain.records import ExceptionRecord, RecordKey
from domain.rules import Rule

__all__ = [
    "ConflictingStore",
    "FailingRuleCatalog",
    "FailingStore",
    "RacingStore",
    "VanishingStore",
    "another_writer_closes",
    "another_writer_records",
]

Race = Callable[[ExceptionRecord], ExceptionRecord]


def another_writer_records(member: str) -> Race:
    """Another Lambda records ``member`` as deleted first."""

    def race(record: ExceptionRecord) -> ExceptionRecord:
        return evolve(record, deleted_members=record.deleted_members | {member})

    return race


def another_writer_closes(ttl: int) -> Race:
    """Another Lambda closes the record first."""

    def race(record: ExceptionRecord) -> ExceptionRecord:
        return evolve(record, status="RESOURCE_DELETED", ttl=ttl)

    return race


@define
class RacingStore(InMemoryExceptionStore):
    """Before each of the first writes, another writer changes the record (one race a write).

    The twin's own conditional check then refuses the stale write, as DynamoDB would.
    """

    races: list[Race] = field(factory=list)
    attempts: int = 0

    def apply(self, update: RecordUpdate) -> None:
        self.attempts += 1
        if self.races:
            race = self.races.pop(0)
            current = self.get(update.record_key)
            assert current is not None
            self.add(race(current))
        super().apply(update)


@define
class ConflictingStore(InMemoryExceptionStore):
    """Every write loses a race."""

    attempts: int = 0

    def apply(self, update: RecordUpdate) -> None:
        self.attempts += 1
        raise ConflictError(f"record {update.record_key} changed since it was read")


@define
class VanishingStore(InMemoryExceptionStore):
    """The record is removed (by hand, or by the table's TTL) just before the write."""

    def apply(self, update: RecordUpdate) -> None:
        self.remove(update.record_key)
        super().apply(update)

    def remove(self, record_key: RecordKey) -> None:
        """Drop a record."""
        self._records.pop(record_key, None)


@define
class FailingStore(InMemoryExceptionStore):
    """The table cannot be reached for one operation: ``list_for``, ``get``, ``get_many`` or
    ``apply``."""

    failing: str = ""

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        self._fail("list_for")
        return super().list_for(account_id, rule_id)

    def get(self, record_key: RecordKey) -> ExceptionRecord | None:
        self._fail("get")
        return super().get(record_key)

    def get_many(self, record_keys: Sequence[RecordKey]) -> dict[RecordKey, ExceptionRecord]:
        self._fail("get_many")
        return super().get_many(record_keys)

    def apply(self, update: RecordUpdate) -> None:
        self._fail("apply")
        super().apply(update)

    def _fail(self, operation: str) -> None:
        if self.failing == operation:
            raise TransientError(f"store unavailable during {operation}")


@define
class FailingRuleCatalog(InMemoryRuleCatalog):
    """The rules table cannot be reached."""

    def find_by_name(self, rule_name: str) -> Rule | None:
        raise TransientError("rules table unavailable")
