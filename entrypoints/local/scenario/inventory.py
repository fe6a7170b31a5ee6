"""AWS Config's inventory as a scenario declares it, on the in-memory twin.

`elm simulate` and `elm local` both stand it behind the inventory port (moto's Config cannot
report deleted resources) and mark resources deleted as the scenario's events say.
"""

from __future__ import annotations

from adapters.in_memory import InMemoryInventory
from entrypoints.local.scenario import Deletion, Scenario

__all__ = ["ScenarioInventory"]

_Identity = tuple[str, str, str, str]
"""(account, region, resource type, resource id)."""


class ScenarioInventory:
    """The twin holding a scenario's resources; `delete` applies one event's `Deletion`."""

    def __init__(self, scenario: Scenario) -> None:
        self.inventory = InMemoryInventory(failing_accounts=dict(scenario.failing_accounts))
        self._names: dict[_Identity, str | None] = {}
        for resource in scenario.resources:
            identity = (
                resource.account_id,
                resource.region,
                resource.resource_type,
                resource.resource_id,
            )
            self.inventory.put(*identity, name=resource.name, deleted=resource.deleted)
            self._names[identity] = resource.name

    def delete(self, deletion: Deletion) -> None:
        """AWS Config reports the resource deleted, under the name it was declared with."""
        identity = (
            deletion.account_id,
            deletion.region,
            deletion.resource_type,
            deletion.resource_id,
        )
        name = deletion.name or self._names.get(identity)
        self._names[identity] = name
        self.inventory.put(*identity, name=name, deleted=True)
