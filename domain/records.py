"""An exception record of `Config-Master`'s companion table, `Config-ResourceExceptions`."""

from __future__ import annotations

import functools
from datetime import datetime
from enum import Enum

from attrs import field, frozen

from domain.events import is_account_id

__all__ = [
    "CLOSED_STATUS",
    "ELM_AUTOMATION",
    "KNOWN_STATUSES",
    "Action",
    "ExceptionRecord",
    "HistoryEntry",
    "RecordKey",
    "split_members",
]

CLOSED_STATUS = "RESOURCE_DELETED"
KNOWN_STATUSES: tuple[str, ...] = ("ACTIVE", "EXPIRED", CLOSED_STATUS)
"""The ExceptionStatus values in use; any value but `CLOSED_STATUS` is open."""
ELM_AUTOMATION = "ELM_AUTOMATION"


class Action(Enum):
    """What a `History` entry records."""

    CLOSED = "closed"
    MEMBER_DELETED = "member-deleted"
    RECONCILED = "reconciled"


@frozen
class HistoryEntry:
    """One audit-trail entry; (event_id, action, member) is unique within a record."""

    event_id: str
    at: datetime
    action: Action
    member: str | None = None

    @property
    def identity(self) -> tuple[str, Action, str | None]:
        return (self.event_id, self.action, self.member)


def _account(_instance: object, _attribute: object, value: str) -> None:
    if not is_account_id(value):
        raise ValueError(f"account id must be 12 digits (got {value!r})")


@frozen(cache_hash=True)
class RecordKey:
    """The primary key of an exception record (hashed once: it keys every index)."""

    account_id: str = field(validator=_account)
    rule_id: int
    key: str

    @property
    def partition_key(self) -> str:
        """The `AccountId_RuleId` attribute."""
        return f"{self.account_id}_{self.rule_id}"


@functools.lru_cache(maxsize=4096)
def split_members(key: str) -> tuple[str, ...]:
    """The members of a composite key, in order, without blanks or repeats.

    Cached: a batch reads the same partition's keys for every event of it.
    """
    seen: dict[str, None] = {}
    for part in key.split(","):
        member = part.strip()
        if member:
            seen.setdefault(member, None)
    return tuple(seen)


@frozen
class ExceptionRecord:
    """One exception: what ELM reads and changes of an item (other attributes are left alone)."""

    record_key: RecordKey
    region: str
    status: str = "ACTIVE"
    resource_type: str | None = None
    deleted_members: frozenset[str] = frozenset()
    history: tuple[HistoryEntry, ...] = ()
    last_modified_by: str | None = None
    update_timestamp: str | None = None
    ttl: int | None = None

    @property
    def account_id(self) -> str:
        return self.record_key.account_id

    @property
    def rule_id(self) -> int:
        return self.record_key.rule_id

    @property
    def key(self) -> str:
        return self.record_key.key

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED_STATUS

    def members(self) -> tuple[str, ...]:
        """The members of the key read as a composite."""
        return split_members(self.key)

    def open_members(self) -> tuple[str, ...]:
        """Composite members not yet confirmed deleted."""
        return tuple(m for m in self.members() if m not in self.deleted_members)
