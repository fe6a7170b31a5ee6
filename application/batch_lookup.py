"""One batch, few AWS Config calls: ask about all the batch's resources first, grouped.

Each event of a batch would otherwise make its own `ListDiscoveredResources` call. Before
the batch runs, `prepare_batch` finds the lookup each event would start with
(`HandleComplianceChange.first_lookup`: only events that pass parsing, the deletion pattern
and the authenticity checks, and that an exception could match) and groups their IDs by
account, region and resource type. The first event of a group to need Config asks about
the whole group in one lookup (the adapter splits it into calls of 20 IDs); the others are
served from that answer. Each event runs unchanged; anything not asked yet goes to Config
as before.

Everything read lives in objects made for one batch and dropped with it, so no state is
carried from one batch (or invocation) to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from attrs import evolve

from application.errors import TransientError
from application.handle_change import HandleComplianceChange, LookupRequest
from application.ports import ExceptionStore, ResourceInventory, ResourceState, UnreadableItem
from domain.lifecycle import RecordUpdate
from domain.records import ExceptionRecord, RecordKey

__all__ = ["BatchReadStore", "PrefetchingInventory", "prepare_batch"]

_Group = tuple[str, str, str]


class PrefetchingInventory:
    """`ResourceInventory` for one batch: the first lookup of a group asks for the whole group.

    ``expect`` is told which IDs the batch's events will ask about. The first lookup in an
    (account, region, type) asks Config about its own IDs and every expected ID of that
    group at once (the inner inventory splits by 20). Every answer is remembered, found
    ones with their state and the others as not reported, so no ID is asked twice within
    the batch. Fetching only on first use means a group whose events never get that far
    (the Lambda deadline, an earlier outcome) costs no call and no assumed role.
    """

    def __init__(self, inner: ResourceInventory) -> None:
        self._inner = inner
        self._expected: dict[_Group, dict[str, None]] = {}
        self._known: dict[_Group, dict[str, ResourceState | None]] = {}
        self._named: dict[tuple[str, str, str, str], Sequence[ResourceState]] = {}

    def expect(self, requests: Iterable[LookupRequest]) -> None:
        """Note the IDs the batch will ask about, grouped by account, region and type."""
        for request in requests:
            key = (request.account_id, request.region, request.resource_type)
            self._expected.setdefault(key, {}).update(dict.fromkeys(request.resource_ids))

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        """As `ResourceInventory.lookup`; only IDs not asked before in this batch reach Config.

        Raises `TransientError` only when the event's own IDs cannot be looked up: when the
        group's lookup fails, the group is no longer fetched together and the event asks
        about its own IDs alone, so it fails or succeeds by itself.
        """
        key = (account_id, region, resource_type)
        known = self._known.get(key, {})
        missing = [i for i in dict.fromkeys(resource_ids) if i not in known]
        if missing:
            group = [*missing, *(i for i in self._expected.pop(key, {}) if i not in known)]
            wanted = list(dict.fromkeys(group))
            try:
                known = self._fetch(key, wanted)
            except TransientError:
                if len(wanted) == len(missing):
                    raise
                known = self._fetch(key, missing)
        return {i: state for i in resource_ids if (state := known.get(i)) is not None}

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        """As `ResourceInventory.lookup_by_name`, each name asked at most once per batch.

        The event path asks by name only for the namesake check (`domain.matching`), which
        cannot be known before the records are read, so names are not prefetched; a name
        two events of the batch ask about costs one call. A failure is not remembered.
        """
        key = (account_id, region, resource_type, resource_name)
        if key not in self._named:
            self._named[key] = self._inner.lookup_by_name(*key)
        return self._named[key]

    def _fetch(self, key: _Group, ids: list[str]) -> dict[str, ResourceState | None]:
        found = self._inner.lookup(*key, ids)
        known = self._known.setdefault(key, {})
        known.update({i: found.get(i) for i in ids})
        return known


class BatchReadStore:
    """`ExceptionStore` that reads each `AccountId_RuleId` (and each key) once per batch.

    `prepare_batch` reads the records of every event to know what to ask Config; the
    events then reuse those reads instead of querying again. A write (or a lost race) to
    a partition drops its cached read, so a later event of the batch sees the write.
    """

    def __init__(self, inner: ExceptionStore) -> None:
        self._inner = inner
        self._read: dict[tuple[str, int], list[ExceptionRecord]] = {}
        self._got: dict[RecordKey, ExceptionRecord | None] = {}

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        """The partition's records, read from the inner store once until it is written."""
        key = (account_id, rule_id)
        if key not in self._read:
            self._read[key] = self._inner.list_for(account_id, rule_id)
        return list(self._read[key])

    def get(self, record_key: RecordKey) -> ExceptionRecord | None:
        """The record, read from the inner store once until its partition is written."""
        if record_key not in self._got:
            self._got[record_key] = self._inner.get(record_key)
        return self._got[record_key]

    def get_many(self, record_keys: Sequence[RecordKey]) -> dict[RecordKey, ExceptionRecord]:
        """The records, each key read from the inner store once (in one batch read) until
        its partition is written; keys read before, found or not, are not asked again."""
        missing = [k for k in dict.fromkeys(record_keys) if k not in self._got]
        if missing:
            found = self._inner.get_many(missing)
            self._got.update({k: found.get(k) for k in missing})
        return {k: r for k in record_keys if (r := self._got[k]) is not None}

    def apply(self, update: RecordUpdate) -> None:
        """Write through; the partition is read afresh next time, whatever happened."""
        try:
            self._inner.apply(update)
        finally:
            # Written, lost to another writer, or unknown after an error: read it again.
            self._forget(update.record_key)

    def add(self, record: ExceptionRecord) -> None:
        """Write through and forget the partition's read."""
        self._inner.add(record)
        self._forget(record.record_key)

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        """Straight to the inner store."""
        return self._inner.scan_open(page_size, on_unreadable)

    def scan_all(self) -> Iterator[ExceptionRecord]:
        """Straight to the inner store."""
        return self._inner.scan_all()

    def _forget(self, record_key: RecordKey) -> None:
        partition = (record_key.account_id, record_key.rule_id)
        self._read.pop(partition, None)
        for key in [k for k in self._got if (k.account_id, k.rule_id) == partition]:
            del self._got[key]


def prepare_batch(
    handle: HandleComplianceChange, bodies: Iterable[str | Mapping[str, Any]]
) -> HandleComplianceChange:
    """``handle`` for one batch of ``bodies``, with their Config lookups already made.

    Use the result for this batch only, then drop it: its reads are not refreshed.
    """
    store = BatchReadStore(handle.store)
    planner = evolve(handle, store=store)
    inventory = PrefetchingInventory(handle.inventory)
    inventory.expect(r for body in bodies if (r := _first_lookup(planner, body)) is not None)
    return evolve(handle, store=store, inventory=inventory)


def _first_lookup(
    planner: HandleComplianceChange, body: str | Mapping[str, Any]
) -> LookupRequest | None:
    try:
        return planner.first_lookup(body)
    except Exception:  # noqa: BLE001 - planning only saves calls
        # An error no outcome names must fail this event alone, when it is handled and
        # reported, not the whole batch before any event is handled: leave it out here.
        return None
