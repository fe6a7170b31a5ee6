"""The lifecycle transitions (docs/behaviour.md): close, record a member, or recognise a
duplicate."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import assert_never

from attrs import evolve, frozen

from domain.outcomes import Outcome
from domain.records import (
    CLOSED_STATUS,
    ELM_AUTOMATION,
    Action,
    ExceptionRecord,
    HistoryEntry,
    RecordKey,
)
from domain.rules import ExceptionKind

__all__ = [
    "TIMESTAMP_FORMAT",
    "Closure",
    "Duplicate",
    "RecordUpdate",
    "Reopening",
    "Trigger",
    "apply_update",
    "decide",
    "timestamp",
    "written_type",
]

TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
_SECONDS_PER_DAY = 86_400


@frozen
class Trigger:
    """What caused a transition: an event (its id), or a reconciliation run (its id)."""

    id: str
    reconciled: bool = False


@frozen
class Closure:
    """The attributes written when a record is closed."""

    ttl: int
    status: str = CLOSED_STATUS


@frozen
class RecordUpdate:
    """A change to one record, written conditionally on the state it was decided from.

    ``expected_deleted_count`` is the size of `DeletedMembers` when the decision was made.
    Members are only ever added, so an unchanged size means an unchanged set: the store
    writes only if the record is still open, still has that many deleted members, and
    holds none of ``members_added``.
    """

    record_key: RecordKey
    outcome: Outcome
    expected_deleted_count: int
    members_added: frozenset[str]
    history: tuple[HistoryEntry, ...]
    resource_type: str | None
    last_modified_by: str
    update_timestamp: str
    closure: Closure | None


@frozen
class Duplicate:
    """Nothing to write: the record is closed, or every confirmed member is recorded."""

    record_key: RecordKey
    reason: str

    @property
    def outcome(self) -> Outcome:
        return Outcome.DUPLICATE


def decide(
    record: ExceptionRecord,
    kind: ExceptionKind,
    confirmed: frozenset[str],
    *,
    trigger: Trigger,
    now: datetime,
    retention_days: int,
    resource_type: str,
    rule_types: Collection[str],
) -> RecordUpdate | Duplicate:
    """The transition of ``record`` given the keys or members confirmed deleted.

    ``confirmed`` holds the record's own key (simple kinds) or the members (composite) that
    AWS Config confirmed deleted; anything else in it is ignored. ``resource_type`` is the
    type of what was deleted and ``rule_types`` the rule's `ResourceTypes`: together they
    decide which `ResourceType` the write may set (`written_type`).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if record.is_closed:
        return Duplicate(record.record_key, "already closed")
    match kind:
        case ExceptionKind.SIMPLE_ID | ExceptionKind.SIMPLE_ARN:
            if record.key not in confirmed:
                return Duplicate(record.record_key, "key not confirmed")
            added: frozenset[str] = frozenset()
            complete = True
        case ExceptionKind.COMPOSITE:
            added = frozenset(m for m in record.open_members() if m in confirmed)
            if not added:
                return Duplicate(record.record_key, "members already recorded")
            complete = not (set(record.members()) - record.deleted_members - added)
        case _:
            assert_never(kind)
    history = _history(record, added, complete, trigger, now)
    return RecordUpdate(
        record_key=record.record_key,
        outcome=Outcome.CLOSED if complete else Outcome.MEMBER_DELETED,
        expected_deleted_count=len(record.deleted_members),
        members_added=added,
        history=history,
        resource_type=written_type(record, kind, resource_type, rule_types),
        last_modified_by=ELM_AUTOMATION,
        update_timestamp=timestamp(now),
        closure=Closure(ttl=_ttl(now, retention_days)) if complete else None,
    )


@frozen
class Reopening:
    """Someone re-opens a record: it covers all its members again and never expires.

    ELM's `TTL` is removed (DynamoDB would otherwise delete an active exception), and so is
    `DeletedMembers`: an open composite waits for each member's deletion anew. History is
    kept. Written only if the record exists.
    """

    record_key: RecordKey
    status: str
    last_modified_by: str
    update_timestamp: str

    @classmethod
    def of(cls, record_key: RecordKey, *, status: str, by: str, now: datetime) -> Reopening:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        if not status or status == CLOSED_STATUS:
            raise ValueError(f"a re-opened record's status cannot be {status!r}")
        return cls(record_key, status, by, timestamp(now))

    def applied_to(self, record: ExceptionRecord) -> ExceptionRecord:
        """The record as it is after the write (used by the in-memory store)."""
        return evolve(
            record,
            status=self.status,
            ttl=None,
            deleted_members=frozenset(),
            last_modified_by=self.last_modified_by,
            update_timestamp=self.update_timestamp,
        )


def written_type(
    record: ExceptionRecord, kind: ExceptionKind, resource_type: str, rule_types: Collection[str]
) -> str | None:
    """The `ResourceType` a write sets on ``record``, or None to leave the attribute alone.

    Never one that disagrees with the record's own. A simple key names the one resource that
    was deleted, so its type is known. A composite's members may be of several types under a
    rule of several types: its type is set only when every member must be of one type (the
    record already says so, or the rule has that type alone).
    """
    if record.resource_type:
        return record.resource_type if record.resource_type == resource_type else None
    if kind is not ExceptionKind.COMPOSITE:
        return resource_type
    return resource_type if set(rule_types) == {resource_type} else None


def apply_update(record: ExceptionRecord, update: RecordUpdate) -> ExceptionRecord:
    """The record as it is after ``update`` is written (used by the in-memory store)."""
    return ExceptionRecord(
        record_key=record.record_key,
        region=record.region,
        status=update.closure.status if update.closure else record.status,
        ttl=update.closure.ttl if update.closure else record.ttl,
        resource_type=update.resource_type or record.resource_type,
        deleted_members=record.deleted_members | update.members_added,
        history=record.history + update.history,
        last_modified_by=update.last_modified_by,
        update_timestamp=update.update_timestamp,
    )


def _history(
    record: ExceptionRecord,
    added: frozenset[str],
    complete: bool,
    trigger: Trigger,
    now: datetime,
) -> tuple[HistoryEntry, ...]:
    member_action = Action.RECONCILED if trigger.reconciled else Action.MEMBER_DELETED
    close_action = Action.RECONCILED if trigger.reconciled else Action.CLOSED
    ordered = [m for m in record.members() if m in added]
    entries = [HistoryEntry(trigger.id, now, member_action, m) for m in ordered]
    if complete:
        entries.append(HistoryEntry(trigger.id, now, close_action))
    return tuple(entries)


def timestamp(now: datetime) -> str:
    """``now`` as `UpdateTimestamp` holds it, in `TIMESTAMP_FORMAT`.

    Formatted field by field: the same text as ``now.strftime(TIMESTAMP_FORMAT)`` for any
    year from 1000 on, for a fraction of strftime's cost on every write.
    """
    return (
        f"{now.month:02d}/{now.day:02d}/{now.year:04d} "
        f"{now.hour:02d}:{now.minute:02d}:{now.second:02d}"
    )


def _ttl(now: datetime, retention_days: int) -> int:
    """The epoch second ``retention_days`` whole days (of 86,400 s) after ``now``."""
    return int(now.timestamp()) + retention_days * _SECONDS_PER_DAY
