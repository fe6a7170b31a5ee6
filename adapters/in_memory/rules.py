"""The in-memory twin of `Config-Master`."""

from __future__ import annotations

import threading

from attrs import define, field

from application.ports import UnreadableRule, unreadable_rule_error
from domain.rules import Rule, rules_by_name, rules_by_resource_type

__all__ = ["InMemoryRuleCatalog"]


@define
class InMemoryRuleCatalog:
    """Rules by id; counts lookups so tests can assert on them."""

    _rules: dict[int, Rule] = field(factory=dict)
    lookups: int = 0
    _by_name: dict[str, Rule] = field(factory=dict, repr=False)
    _by_type: dict[str, tuple[Rule, ...]] = field(factory=dict, repr=False)
    _unreadable: list[UnreadableRule] = field(factory=list, repr=False)
    _lock: threading.Lock = field(factory=threading.Lock, repr=False)

    def find_by_name(self, rule_name: str) -> Rule | None:
        with self._lock:
            self.lookups += 1
            rule = self._by_name.get(rule_name)
            if rule is None and (error := unreadable_rule_error(rule_name, self._unreadable)):
                raise error
            return rule

    def get(self, rule_id: int) -> Rule | None:
        with self._lock:
            return self._rules.get(rule_id)

    def find_by_resource_type(self, resource_type: str) -> list[Rule]:
        with self._lock:
            self.lookups += 1
            return list(self._by_type.get(resource_type, ()))

    def list_rules(self) -> list[Rule]:
        with self._lock:
            return sorted(self._rules.values(), key=lambda r: r.rule_id)

    def add(self, rule: Rule) -> None:
        with self._lock:
            self._rules[rule.rule_id] = rule
            self._by_name = rules_by_name(self._rules.values())
            self._by_type = rules_by_resource_type(self._rules.values())

    def unreadable(self) -> list[UnreadableRule]:
        with self._lock:
            return list(self._unreadable)

    def add_unreadable(self, item: UnreadableRule) -> None:
        """Hold an item that is not a readable rule, as a damaged table would."""
        with self._lock:
            self._unreadable.append(item)
