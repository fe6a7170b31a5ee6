"""What the use cases need from the world, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from attrs import frozen

from application.errors import RecordFormatError
from domain.lifecycle import RecordUpdate
from domain.records import ExceptionRecord, RecordKey
from domain.rules import Rule

__all__ = [
    "ELM_EVENT_SOURCE",
    "MAX_IDS_PER_CALL",
    "MAX_KEYS_PER_BATCH_GET",
    "Clock",
    "ElmEvent",
    "ElmEventKind",
    "EventPublisher",
    "EventSource",
    "ExceptionStore",
    "Message",
    "PublishFailure",
    "ResourceInventory",
    "ResourceState",
    "RuleCatalog",
    "RuleScopes",
    "Timer",
    "UnreadableItem",
    "UnreadableRule",
    "unreadable_rule_error",
]

MAX_IDS_PER_CALL = 20
"""`ListDiscoveredResources` accepts at most 20 resource IDs a call."""

MAX_KEYS_PER_BATCH_GET = 100
"""DynamoDB's `BatchGetItem` reads at most 100 items a call (`ExceptionStore.get_many`)."""


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class Timer(Protocol):
    """Elapsed time and waiting, for budgets and rate limits (not the date: see `Clock`)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait that long."""
        ...


@frozen
class UnreadableRule:
    """A `Config-Master` item that is not a rule ELM can read: skipped, named by its key."""

    item: str
    reason: str
    rule_name: str | None = None
    """Its `RuleName` when that attribute itself is readable."""


def unreadable_rule_error(
    rule_name: str, unreadable: Sequence[UnreadableRule]
) -> RecordFormatError | None:
    """The error for looking up ``rule_name`` when it is not among the readable rules.

    The rule's own item unreadable: that item's reason. An item whose `RuleName` cannot be
    read may be the rule the event names, so the lookup fails rather than calling the rule
    unknown (`ignored` would drop the event; failing sends it to the DLQ until the item is
    repaired). None when no unreadable item could be the rule: it is unknown.
    """
    own = [u for u in unreadable if u.rule_name == rule_name]
    if own:
        return RecordFormatError(f"rule {rule_name!r}: {own[0].reason}")
    nameless = [u.item for u in unreadable if u.rule_name is None]
    if nameless:
        return RecordFormatError(
            f"rule {rule_name!r} is not among the readable rules and items "
            f"{', '.join(nameless)} have no readable RuleName"
        )
    return None


class RuleCatalog(Protocol):
    """`Config-Master`: the rules ELM knows."""

    def find_by_name(self, rule_name: str) -> Rule | None:
        """The rule of that name, or None when it is unknown.

        Raises `RecordFormatError` when the rule's item is unreadable, or when an item whose
        name cannot be read might be it (`unreadable_rule_error`).
        """
        ...

    def get(self, rule_id: int) -> Rule | None:
        """The rule of that id, or None."""
        ...

    def find_by_resource_type(self, resource_type: str) -> list[Rule]:
        """The readable rules whose `ResourceTypes` include ``resource_type``, by `RuleId`.

        Rules without `ResourceTypes` are never returned (see `rules_by_resource_type`).
        """
        ...

    def list_rules(self) -> list[Rule]:
        """Every readable rule (unreadable items are skipped: see `unreadable`)."""
        ...

    def unreadable(self) -> list[UnreadableRule]:
        """The items that are not readable rules, by key."""
        ...

    def add(self, rule: Rule) -> None:
        """Register (or replace) a rule."""
        ...


@frozen
class UnreadableItem:
    """An exception item that does not read as a record: which one, and why."""

    item: str
    reason: str


class RuleScopes(Protocol):
    """What AWS Config says its rules evaluate, in one account and region."""

    def compliance_resource_types(self) -> Mapping[str, frozenset[str]]:
        """Each Config rule's name and the resource types its scope lists (empty: none).

        Raises `TransientError` when AWS Config cannot be asked (denied, throttled).
        """
        ...


class ExceptionStore(Protocol):
    """`Config-ResourceExceptions`: the exception records."""

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        """Every record under one `AccountId_RuleId` (a Query, never a Scan)."""
        ...

    def get(self, record_key: RecordKey) -> ExceptionRecord | None:
        """One record, read consistently, or None."""
        ...

    def get_many(self, record_keys: Sequence[RecordKey]) -> dict[RecordKey, ExceptionRecord]:
        """The records of ``record_keys`` that exist, each read consistently, by key.

        A key with no record is missing from the result; a key given twice is read once; no
        keys, no read. As `get`, an item that does not read as a record raises
        `RecordFormatError` naming it (nothing is returned for the others), and a store that
        cannot be reached, or does not read every key after its retries, `TransientError`.
        """
        ...

    def apply(self, update: RecordUpdate) -> None:
        """Write ``update`` if the record is still as it was decided from.

        Raises `ConflictError` when it is not (another writer got there first, or it is
        closed), and `TransientError` when the store cannot be reached.
        """
        ...

    def add(self, record: ExceptionRecord) -> None:
        """Register (or replace) a record."""
        ...

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        """Every open record, page by page (for the reconciliation sweep).

        An item that does not read as a record raises `RecordFormatError`, unless
        ``on_unreadable`` is given: then it is handed that, and the scan goes on.
        """
        ...

    def scan_all(self) -> Iterator[ExceptionRecord]:
        """Every record (for listing)."""
        ...


@frozen
class ResourceState:
    """What AWS Config reports of one resource."""

    resource_type: str
    resource_id: str
    resource_name: str | None
    deleted: bool


class ResourceInventory(Protocol):
    """AWS Config's inventory in the target accounts."""

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        """The state of each resource Config knows, by resource id (deleted ones included).

        Resources Config does not report are absent from the result. Raises `TransientError`
        on denied, throttled or timed-out calls.
        """
        ...

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        """Every resource Config reports under that name, deleted ones included (pages followed).

        A name may be reported several times: a deleted resource and a new one re-created
        under the same name have different ids. Config's own name filter is not documented
        as exact, so callers compare `resource_name` themselves (docs/matching.md: exact). Raises
        `TransientError` like `lookup`.
        """
        ...


@frozen
class Message:
    """One queued message: an SQS record's id and body."""

    message_id: str
    body: str


class EventSource(Protocol):
    """Where queued events come from (SQS, files, a scenario)."""

    def receive(self) -> Iterable[Message]:
        """The next messages; empty when there are none left."""
        ...

    def acknowledge(self, message_ids: Sequence[str]) -> None:
        """Remove processed messages; the others are delivered again."""
        ...


ELM_EVENT_SOURCE = "elm"
"""The `source` of every event ELM publishes about its own work."""


class ElmEventKind(Enum):
    """The `detail-type` of ELM's own events: a closed set."""

    EXCEPTION_CLOSED = "Exception Closed"
    EXCEPTION_MEMBER_DELETED = "Exception Member Deleted"
    RECONCILIATION_FINISHED = "Reconciliation Finished"


@frozen
class ElmEvent:
    """One event ELM tells others about: its kind, JSON-ready detail, and when it happened."""

    kind: ElmEventKind
    detail: Mapping[str, Any]
    time: datetime


@frozen
class PublishFailure:
    """An event the bus did not take after every attempt, and why."""

    event: ElmEvent
    reason: str


class EventPublisher(Protocol):
    """Where ELM's own events go (an EventBridge bus)."""

    def publish(self, events: Sequence[ElmEvent]) -> Sequence[PublishFailure]:
        """Put every event on the bus, retrying failed ones a bounded number of times.

        Returns the events that still could not be put, with the reason; never raises for a
        bus that refuses or cannot be reached (the caller logs and counts them).
        """
        ...
