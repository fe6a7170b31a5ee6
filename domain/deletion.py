"""The one definition of "a deletion event", for each of the two signals.

The same patterns are rendered into the EventBridge rules of the templates and evaluated by
the handler (defence in depth), so the two cannot drift apart. The matcher below implements
the subset of EventBridge pattern syntax the patterns use: lists of literal alternatives and
``{"prefix": ...}`` alternatives, nested under objects, and ``"$or"`` over sub-patterns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from domain.events import (
    CONFIGURATION_ITEM_DETAIL_TYPE,
    CONFIGURATION_ITEM_MESSAGE_TYPE,
    DELETED_ITEM_STATUSES,
    OVERSIZED_ITEM_MESSAGE_TYPE,
)

__all__ = [
    "DELETED_ANNOTATION_PREFIX",
    "EXCEPTION_ANNOTATIONS",
    "compile_pattern",
    "configuration_item_pattern",
    "deletion_pattern",
    "is_configuration_item_deletion",
    "is_deletion_event",
    "matches_pattern",
]

EXCEPTION_ANNOTATIONS: tuple[str, ...] = (
    "This resource is an exception.",
    "Recorded exception has expired.",
    "Recorded exception has been deleted because of no recertification.",
)
DELETED_ANNOTATION_PREFIX = "Resource was deleted"


def deletion_pattern(rule_prefix: str = "") -> dict[str, Any]:
    """The EventBridge pattern of a deletion event for the environment's rule prefix.

    An empty prefix (PROD) leaves the rule name unconstrained rather than emitting an empty
    ``prefix`` operator.
    """
    detail: dict[str, Any] = {"messageType": ["ComplianceChangeNotification"]}
    if rule_prefix:
        detail["configRuleName"] = [{"prefix": rule_prefix}]
    detail["oldEvaluationResult"] = {
        "complianceType": ["COMPLIANT", "NON_COMPLIANT"],
        "annotation": list(EXCEPTION_ANNOTATIONS),
    }
    detail["newEvaluationResult"] = {
        "complianceType": ["NOT_APPLICABLE"],
        "annotation": [{"prefix": DELETED_ANNOTATION_PREFIX}],
    }
    return {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": detail,
    }


def configuration_item_pattern() -> dict[str, Any]:
    """The EventBridge pattern of AWS Config's own record of a deleted resource.

    A configuration item change whose item (or, in the oversized notification, its summary)
    has a deleted status. It names no rule, so there is no prefix: every environment
    forwards the same deletions, and each handler keeps the rules of its own prefix. Only
    deletions: a busy account records thousands of other changes an hour.
    """
    statuses = list(DELETED_ITEM_STATUSES)
    return {
        "source": ["aws.config"],
        "detail-type": [CONFIGURATION_ITEM_DETAIL_TYPE],
        "detail": {
            "$or": [
                {
                    "messageType": [CONFIGURATION_ITEM_MESSAGE_TYPE],
                    "configurationItem": {"configurationItemStatus": statuses},
                },
                {
                    "messageType": [OVERSIZED_ITEM_MESSAGE_TYPE],
                    "configurationItemSummary": {"configurationItemStatus": statuses},
                },
            ]
        },
    }


def is_configuration_item_deletion(event: Mapping[str, Any]) -> bool:
    """True when the raw event satisfies `configuration_item_pattern`."""
    return _compiled_item_pattern(event)


def is_deletion_event(event: Mapping[str, Any], rule_prefix: str = "") -> bool:
    """True when the raw event satisfies the deletion pattern of ``rule_prefix``."""
    return _compiled_pattern(rule_prefix)(event)


@cache
def _compiled_pattern(rule_prefix: str) -> Callable[[Any], bool]:
    # Compiled once per prefix: the handler evaluates it for every event.
    return compile_pattern(deletion_pattern(rule_prefix))


def matches_pattern(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Evaluate an EventBridge pattern (literal and prefix alternatives) against an event."""
    return compile_pattern(pattern)(event)


def compile_pattern(pattern: Mapping[str, Any]) -> Callable[[Any], bool]:
    """A predicate equivalent to ``pattern``; raises ValueError for an unsupported operator."""
    alternatives = [compile_pattern(p) for p in pattern.get("$or", ())]
    checks = [
        (field, compile_pattern(expected) if isinstance(expected, dict) else _leaf(expected))
        for field, expected in pattern.items()
        if field != "$or"
    ]

    def matches(event: Any) -> bool:
        # dict first: decoded JSON always is one, and a Mapping check is an ABC lookup.
        # Plain loops: the handler runs this for every event, and generators cost more.
        if type(event) is not dict and not isinstance(event, Mapping):
            return False
        for field, check in checks:
            if field not in event or not check(event[field]):
                return False
        # "$or": the object matches when any one of its sub-patterns does, too.
        return not alternatives or any(alternative(event) for alternative in alternatives)

    return matches


def _leaf(alternatives: list[Any]) -> Callable[[Any], bool]:
    """A field's alternatives: literal values (same type, equal) or ``{"prefix": ...}``."""
    texts: set[str] = set()
    others: list[Any] = []
    prefixes: list[str] = []
    for alternative in alternatives:
        if isinstance(alternative, dict):
            prefix = alternative.get("prefix")
            if not isinstance(prefix, str) or len(alternative) != 1:
                raise ValueError(f"unsupported pattern operator: {dict(alternative)!r}")
            prefixes.append(prefix)
        elif type(alternative) is str:
            texts.add(alternative)
        else:
            others.append(alternative)
    starts = tuple(prefixes)

    def one(value: Any) -> bool:
        if type(value) is str:
            return value in texts or (bool(starts) and value.startswith(starts))
        return any(type(o) is type(value) and o == value for o in others)

    def matches(actual: Any) -> bool:
        # EventBridge matches an array in the event when any of its elements matches.
        if type(actual) is str:
            return actual in texts or (bool(starts) and actual.startswith(starts))
        if isinstance(actual, list):
            return any(one(value) for value in actual)
        return one(actual)

    return matches


_compiled_item_pattern = compile_pattern(configuration_item_pattern())
