"""The in-memory twin of `Config-ResourceExceptions`, with DynamoDB's conditional writes.

Records are immutable attrs values, so what a caller holds can never alias what is stored:
the twin hands out and keeps values, which is what deep copies buy a mutable twin.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Iterator, Sequence

from attrs import define, field

from application.errors import ConflictError
from application.ports import MAX_KEYS_PER_BATCH_GET, UnreadableItem
from domain.lifecycle import RecordUpdate, Reopening, apply_update
from domain.records import ExceptionRecord, RecordKey

__all__ = ["InMemoryExceptionStore"]


@define
class InMemoryExceptionStore:
    """Exception records by key; every write is checked the way the DynamoDB adapter's is."""

    _records: dict[RecordKey, ExceptionRecord] = field(factory=dict)
    # The keys under each `AccountId_RuleId`, so that a Query reads its partition only, as
    # DynamoDB's does, instead of sorting the whole table on every event.
    _partitions: dict[tuple[str, int], set[RecordKey]] = field(factory=dict)
    writes: list[RecordUpdate] = field(factory=list)
    conflicts: int = 0
    queries: int = 0
    gets: int = 0
    batch_gets: int = 0
    """Batch reads made, as DynamoDB would: one per 100 distinct keys of a `get_many`."""
    _lock: threading.Lock = field(factory=threading.Lock, repr=False)

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        with self._lock:
            self.queries += 1
            keys = sorted(self._partitions.get((account_id, rule_id), ()), key=lambda k: k.key)
            return [self._records[k] for k in keys]

    def get(self, record_key: RecordKey) -> ExceptionRecord | None:
        with self._lock:
            self.gets += 1
            return self._records.get(record_key)

    def get_many(self, record_keys: Sequence[RecordKey]) -> dict[RecordKey, ExceptionRecord]:
        """As DynamoDB's `BatchGetItem`: each key once, one counted read per 100 keys."""
        unique = list(dict.fromkeys(record_keys))
        with self._lock:
            self.batch_gets += -(-len(unique) // MAX_KEYS_PER_BATCH_GET)
            return {k: r for k in unique if (r := self._records.get(k)) is not None}

    def apply(self, update: RecordUpdate) -> None:
        with self._lock:
            record = self._records.get(update.record_key)
            if (
                record is None
                or record.is_closed
                or len(record.deleted_members) != update.expected_deleted_count
                or record.deleted_members & update.members_added
                or (
                    update.resource_type is not None
                    and record.resource_type not in (None, update.resource_type)
                )
            ):
                self.conflicts += 1
                raise ConflictError(f"record {update.record_key} changed since it was read")
            self._records[update.record_key] = apply_update(record, update)
            self.writes.append(update)

    def reopen(self, reopening: Reopening) -> None:
        with self._lock:
            record = self._records.get(reopening.record_key)
            if record is None:
                raise ConflictError(f"record {reopening.record_key} does not exist")
            self._records[reopening.record_key] = reopening.applied_to(record)

    def add(self, record: ExceptionRecord) -> None:
        with self._lock:
            self._records[record.record_key] = record
            key = record.record_key
            self._partitions.setdefault((key.account_id, key.rule_id), set()).add(key)

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        for record in self.scan_all():
            if not record.is_closed:
                yield record

    def scan_open_segment(
        self,
        segment: int,
        total_segments: int,
        page_size: int = 100,
        on_unreadable: Callable[[UnreadableItem], None] | None = None,
    ) -> Iterator[ExceptionRecord]:
        """The open records of one Scan segment: as DynamoDB, each partition in one segment."""
        if not 0 <= segment < total_segments:
            raise ValueError(f"segment must be in 0..{total_segments - 1} (got {segment})")
        for record in self.scan_all():
            digest = zlib.crc32(record.record_key.partition_key.encode())
            if not record.is_closed and digest % total_segments == segment:
                yield record

    def scan_all(self) -> Iterator[ExceptionRecord]:
        with self._lock:
            snapshot = sorted(
                self._records.values(),
                key=lambda r: (r.record_key.partition_key, r.key),
            )
        yield from snapshot
