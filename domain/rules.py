"""A Config rule as `Config-Master` records it, and the exception kind it implies."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from attrs import field, frozen

__all__ = [
    "ExceptionFormat",
    "ExceptionKind",
    "ExceptionType",
    "Rule",
    "rules_by_name",
    "rules_by_resource_type",
]


class ExceptionFormat(Enum):
    """How an exception names its resource (`ExceptionFormat`)."""

    RESOURCE_ID = "Resource ID"
    RESOURCE_ARN = "Resource ARN"


class ExceptionType(Enum):
    """Whether an exception covers one resource or a group (`ExceptionType`)."""

    SIMPLE = "Simple"
    COMPOSITE = "Composite"


class ExceptionKind(Enum):
    """The closed set of exception kinds; dispatch on it with `match` and `assert_never`."""

    SIMPLE_ID = "simple-resource-id"
    SIMPLE_ARN = "simple-resource-arn"
    COMPOSITE = "composite"


def _positive(_instance: object, _attribute: object, value: int) -> None:
    if value < 0:
        raise ValueError(f"RuleId must not be negative (got {value})")


@frozen
class Rule:
    """One item of `Config-Master`."""

    rule_id: int = field(validator=_positive)
    name: str
    exception_format: ExceptionFormat
    exception_type: ExceptionType
    resource_types: frozenset[str] = frozenset()
    kind: ExceptionKind = field(init=False, eq=False, repr=False)
    """The exception kind the rule's format and type imply (derived once: asked per event)."""

    @kind.default
    def _kind(self) -> ExceptionKind:
        if self.exception_type is ExceptionType.COMPOSITE:
            return ExceptionKind.COMPOSITE
        if self.exception_format is ExceptionFormat.RESOURCE_ARN:
            return ExceptionKind.SIMPLE_ARN
        return ExceptionKind.SIMPLE_ID


def rules_by_name(rules: Iterable[Rule]) -> dict[str, Rule]:
    """An index of ``rules`` by name; where two share a name, the first one wins."""
    index: dict[str, Rule] = {}
    for rule in rules:
        index.setdefault(rule.name, rule)
    return index


def rules_by_resource_type(rules: Iterable[Rule]) -> dict[str, tuple[Rule, ...]]:
    """An index of ``rules`` by each type in their `ResourceTypes`, each list by `RuleId`.

    A rule without `ResourceTypes` is in no list: nothing says which deletions concern it.
    """
    index: dict[str, list[Rule]] = {}
    for rule in sorted(rules, key=lambda r: r.rule_id):
        for resource_type in rule.resource_types:
            index.setdefault(resource_type, []).append(rule)
    return {resource_type: tuple(listed) for resource_type, listed in index.items()}
