"""The in-memory twin of AWS Config's inventory: which resources exist, which are deleted."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from attrs import define, field, frozen

from application.errors import TransientError
from application.ports import MAX_IDS_PER_CALL, ResourceState

__all__ = ["InMemoryInventory", "InventoryCall", "InventoryNameCall"]


@frozen
class InventoryCall:
    """One `ListDiscoveredResources` call as the twin saw it."""

    account_id: str
    region: str
    resource_type: str
    resource_ids: tuple[str, ...]


@frozen
class InventoryNameCall:
    """One `ListDiscoveredResources` call by `resourceName` as the twin saw it."""

    account_id: str
    region: str
    resource_type: str
    resource_name: str


@define
class InMemoryInventory:
    """Resources by (account, region, type, id); records each call, splits by 20 like Config.

    Calls by id are in ``calls``, calls by name in ``name_calls``.

    ``failure`` makes every lookup raise `TransientError`; ``failing_accounts`` (account id ->
    message) does so for those accounts only.
    """

    _resources: dict[tuple[str, str, str, str], ResourceState] = field(factory=dict)
    calls: list[InventoryCall] = field(factory=list)
    name_calls: list[InventoryNameCall] = field(factory=list)
    failure: str | None = None
    # Per-account failures (AccessDenied in one account while the others answer).
    failing_accounts: dict[str, str] = field(factory=dict)
    _lock: threading.Lock = field(factory=threading.Lock, repr=False)

    def put(
        self,
        account_id: str,
        region: str,
        resource_type: str,
        resource_id: str,
        *,
        name: str | None = None,
        deleted: bool = False,
    ) -> None:
        """Declare a resource that exists (or existed, when ``deleted``)."""
        with self._lock:
            self._resources[(account_id, region, resource_type, resource_id)] = ResourceState(
                resource_type, resource_id, name, deleted
            )

    def delete(self, account_id: str, region: str, resource_type: str, resource_id: str) -> None:
        """Mark a known resource deleted."""
        with self._lock:
            key = (account_id, region, resource_type, resource_id)
            state = self._resources[key]
            self._resources[key] = ResourceState(
                state.resource_type, state.resource_id, state.resource_name, True
            )

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        self._fail_if_asked(account_id)
        found: dict[str, ResourceState] = {}
        ids = list(dict.fromkeys(resource_ids))
        with self._lock:
            for start in range(0, len(ids), MAX_IDS_PER_CALL):
                chunk = tuple(ids[start : start + MAX_IDS_PER_CALL])
                self.calls.append(InventoryCall(account_id, region, resource_type, chunk))
                for resource_id in chunk:
                    state = self._resources.get((account_id, region, resource_type, resource_id))
                    if state is not None:
                        found[resource_id] = state
        return found

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        """Every resource of that exact name, live and deleted, in the order they were put."""
        self._fail_if_asked(account_id)
        with self._lock:
            self.name_calls.append(
                InventoryNameCall(account_id, region, resource_type, resource_name)
            )
            return tuple(
                state
                for (account, in_region, of_type, _), state in self._resources.items()
                if (account, in_region, of_type) == (account_id, region, resource_type)
                and state.resource_name == resource_name
            )

    def _fail_if_asked(self, account_id: str) -> None:
        if self.failure is not None:
            raise TransientError(self.failure)
        if account_id in self.failing_accounts:
            raise TransientError(self.failing_accounts[account_id])
