"""The in-memory twin of AWS Config's rule scopes."""

from __future__ import annotations

from collections.abc import Mapping

from attrs import define, field

from application.errors import TransientError

__all__ = ["InMemoryRuleScopes"]


@define
class InMemoryRuleScopes:
    """Rule names and the resource types AWS Config lists for them; counts the calls."""

    scopes: dict[str, frozenset[str]] = field(factory=dict)
    failure: str | None = None
    calls: int = 0

    def compliance_resource_types(self) -> Mapping[str, frozenset[str]]:
        self.calls += 1
        if self.failure:
            raise TransientError(self.failure)
        return dict(self.scopes)
