"""The in-memory wiring of the use case over a data set."""

from __future__ import annotations

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from application.handle_change import HandleComplianceChange
from benchmarks.data import Dataset

__all__ = ["in_memory_inventory", "in_memory_use_case"]


def in_memory_inventory(dataset: Dataset) -> InMemoryInventory:
    """Config's view: each event's resource deleted, the composites' other members existing."""
    inventory = InMemoryInventory()
    for r in dataset.deleted:
        inventory.put(r.account_id, r.region, r.resource_type, r.resource_id, deleted=True)
    for r in dataset.existing:
        inventory.put(r.account_id, r.region, r.resource_type, r.resource_id)
    return inventory


def in_memory_use_case(dataset: Dataset) -> HandleComplianceChange:
    """`HandleComplianceChange` on the in-memory twins, loaded with ``dataset``."""
    rules = InMemoryRuleCatalog()
    for rule in dataset.rules:
        rules.add(rule)
    store = InMemoryExceptionStore()
    for record in dataset.records:
        store.add(record)
    return HandleComplianceChange(rules, store, in_memory_inventory(dataset), FixedClock())
