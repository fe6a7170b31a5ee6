"""The one definition of "a deletion event".

The same pattern is rendered into the EventBridge rules of the templates and evaluated by
the handler (defence in depth), so the two cannot drift apart. The matcher below implements
the subset of EventBridge pattern syntax the pattern uses: lists of literal alternatives and
``{"prefix": ...}`` alternatives, nested under objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "DELETED_ANNOTATION_PREFIX",
    "EXCEPTION_ANNOTATIONS",
    "deletion_pattern",
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


def is_deletion_event(event: Mapping[str, Any], rule_prefix: str = "") -> bool:
    """True when the raw event satisfies the deletion pattern of ``rule_prefix``."""
    return matches_pattern(deletion_pattern(rule_prefix), event)


def matches_pattern(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Evaluate an EventBridge pattern (literal and prefix alternatives) against an event."""
    for field, expected in pattern.items():
        if field not in event:
            return False
        actual = event[field]
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping) or not matches_pattern(expected, actual):
                return False
        elif not _matches_leaf(expected, actual):
            return False
    return True


def _matches_leaf(alternatives: list[Any], actual: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    return any(_matches_alternative(alt, value) for alt in alternatives for value in values)


def _matches_alternative(alternative: Any, value: Any) -> bool:
    if isinstance(alternative, Mapping):
        prefix = alternative.get("prefix")
        if not isinstance(prefix, str) or len(alternative) != 1:
            raise ValueError(f"unsupported pattern operator: {dict(alternative)!r}")
        return isinstance(value, str) and value.startswith(prefix)
    return bool(type(alternative) is type(value) and alternative == value)
