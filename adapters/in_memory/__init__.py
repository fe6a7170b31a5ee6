"""In-memory twins of every port, for the simulation and the fast tests."""

from adapters.in_memory.clock import FixedClock, ManualTimer, SystemClock, SystemTimer
from adapters.in_memory.events import ListEventSource
from adapters.in_memory.inventory import InMemoryInventory
from adapters.in_memory.publisher import InMemoryEventPublisher
from adapters.in_memory.rule_scopes import InMemoryRuleScopes
from adapters.in_memory.rules import InMemoryRuleCatalog
from adapters.in_memory.store import InMemoryExceptionStore

__all__ = [
    "FixedClock",
    "InMemoryEventPublisher",
    "InMemoryExceptionStore",
    "InMemoryInventory",
    "InMemoryRuleCatalog",
    "InMemoryRuleScopes",
    "ListEventSource",
    "ManualTimer",
    "SystemClock",
    "SystemTimer",
]
