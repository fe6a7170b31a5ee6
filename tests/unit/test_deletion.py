"""The one definition of a deletion event: the pattern, and the matcher that evaluates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.deletion import (
    DELETED_ANNOTATION_PREFIX,
    EXCEPTION_ANNOTATIONS,
    deletion_pattern,
    is_deletion_event,
    matches_pattern,
)
from entrypoints.local.sample_events import compliance_change_event

EVENTS = Path(__file__).parent.parent / "events"


def _change(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "account_id": "111122223333",
        "region": "eu-west-1",
        "rule_name": "sg-no-open-ingress",
        "resource_type": "AWS::EC2::SecurityGroup",
        "resource_id": "sg-0abc123",
    }
    arguments.update(overrides)
    return compliance_change_event(**arguments)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("deleted-simple-id.json", True),
        ("deleted-arn-s3.json", True),
        ("not-a-deletion.json", False),
        ("forged-account.json", True),  # a deletion by shape; authenticity is another step
    ],
)
def test_samples_are_classified(name: str, expected: bool) -> None:
    assert is_deletion_event(json.loads((EVENTS / name).read_text())) is expected


@pytest.mark.parametrize("annotation", EXCEPTION_ANNOTATIONS)
@pytest.mark.parametrize("old_compliance", ["COMPLIANT", "NON_COMPLIANT"])
def test_every_exception_annotation_and_old_compliance_is_a_deletion(
    annotation: str, old_compliance: str
) -> None:
    event = _change(old_compliance=old_compliance, old_annotation=annotation)
    assert is_deletion_event(event)


@pytest.mark.parametrize(
    "annotation",
    [
        "This resource is an exception",  # no full stop: literal match only
        "this resource is an exception.",
        "Recorded exception has expired",
        "Ingress 0.0.0.0/0 on port 22.",
        "",
    ],
)
def test_other_old_annotations_are_not_deletions(annotation: str) -> None:
    assert not is_deletion_event(_change(old_annotation=annotation))


def test_missing_old_annotation_is_not_a_deletion() -> None:
    assert not is_deletion_event(_change(old_annotation=None))


def test_missing_old_evaluation_result_is_not_a_deletion() -> None:
    assert not is_deletion_event(_change(old_compliance=None))


@pytest.mark.parametrize("old_compliance", ["NOT_APPLICABLE", "INSUFFICIENT_DATA", "compliant"])
def test_other_old_compliance_types_are_not_deletions(old_compliance: str) -> None:
    assert not is_deletion_event(_change(old_compliance=old_compliance))


@pytest.mark.parametrize(
    ("new_compliance", "new_annotation", "expected"),
    [
        ("NOT_APPLICABLE", "Resource was deleted.", True),
        ("NOT_APPLICABLE", "Resource was deleted", True),
        ("NOT_APPLICABLE", "Resource was deleted at 10:15 by a stack.", True),
        ("NOT_APPLICABLE", "resource was deleted.", False),
        ("NOT_APPLICABLE", "The Resource was deleted.", False),
        ("NOT_APPLICABLE", None, False),
        ("NON_COMPLIANT", "Resource was deleted.", False),
        ("COMPLIANT", "Resource was deleted.", False),
    ],
)
def test_new_evaluation_must_be_not_applicable_and_say_the_resource_was_deleted(
    new_compliance: str, new_annotation: str | None, expected: bool
) -> None:
    event = _change(new_compliance=new_compliance, new_annotation=new_annotation)
    assert is_deletion_event(event) is expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("source", "aws.events"),
        ("source", "custom.config"),
        ("detail-type", "Config Configuration Item Change"),
    ],
)
def test_other_sources_and_detail_types_are_not_deletions(field: str, value: str) -> None:
    event = _change()
    event[field] = value
    assert not is_deletion_event(event)


def test_other_message_types_are_not_deletions() -> None:
    event = _change()
    event["detail"]["messageType"] = "ScheduledNotification"
    assert not is_deletion_event(event)


@pytest.mark.parametrize(
    ("prefix", "rule_name", "expected"),
    [
        ("", "sg-no-open-ingress", True),
        ("", "DEV-sg-no-open-ingress", True),
        ("DEV-", "DEV-sg-no-open-ingress", True),
        ("DEV-", "DEV-", True),
        ("DEV-", "dev-sg-no-open-ingress", False),
        ("DEV-", "QA-DEV-sg-no-open-ingress", False),
        ("DEV-", "sg-no-open-ingress", False),
        ("QA-", "DEV-sg-no-open-ingress", False),
    ],
)
def test_rule_prefix_selects_the_environment(prefix: str, rule_name: str, expected: bool) -> None:
    assert is_deletion_event(_change(rule_name=rule_name), prefix) is expected


def test_empty_prefix_leaves_the_rule_name_unconstrained_in_the_pattern() -> None:
    assert "configRuleName" not in deletion_pattern("")["detail"]
    assert deletion_pattern("DEV-")["detail"]["configRuleName"] == [{"prefix": "DEV-"}]


def test_pattern_states_every_row_of_the_spec() -> None:
    assert deletion_pattern() == {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {
            "messageType": ["ComplianceChangeNotification"],
            "oldEvaluationResult": {
                "complianceType": ["COMPLIANT", "NON_COMPLIANT"],
                "annotation": list(EXCEPTION_ANNOTATIONS),
            },
            "newEvaluationResult": {
                "complianceType": ["NOT_APPLICABLE"],
                "annotation": [{"prefix": DELETED_ANNOTATION_PREFIX}],
            },
        },
    }


def test_pattern_is_plain_json() -> None:
    # The templates embed it as an EventPattern; it must survive a JSON round trip.
    pattern = deletion_pattern("DEV-")
    assert json.loads(json.dumps(pattern)) == pattern


def test_each_call_returns_a_fresh_pattern() -> None:
    deletion_pattern()["detail"]["messageType"].append("anything")
    assert deletion_pattern()["detail"]["messageType"] == ["ComplianceChangeNotification"]


class TestMatcher:
    """EventBridge semantics for the operators the pattern uses."""

    def test_missing_field_does_not_match(self) -> None:
        assert not matches_pattern({"a": ["x"]}, {})

    def test_literal_alternatives(self) -> None:
        assert matches_pattern({"a": ["x", "y"]}, {"a": "y"})
        assert not matches_pattern({"a": ["x", "y"]}, {"a": "z"})

    def test_literals_compare_type_as_well_as_value(self) -> None:
        assert not matches_pattern({"a": ["1"]}, {"a": 1})
        assert not matches_pattern({"a": [1]}, {"a": True})

    def test_an_array_in_the_event_matches_when_any_element_matches(self) -> None:
        assert matches_pattern({"a": ["x"]}, {"a": ["w", "x"]})
        assert not matches_pattern({"a": ["x"]}, {"a": []})

    def test_prefix(self) -> None:
        assert matches_pattern({"a": [{"prefix": "ab"}]}, {"a": "abc"})
        assert not matches_pattern({"a": [{"prefix": "ab"}]}, {"a": "cab"})
        assert not matches_pattern({"a": [{"prefix": "1"}]}, {"a": 12})

    def test_nested_objects(self) -> None:
        pattern = {"d": {"e": ["x"]}}
        assert matches_pattern(pattern, {"d": {"e": "x", "f": 1}})
        assert not matches_pattern(pattern, {"d": "x"})
        assert not matches_pattern(pattern, {"d": {"e": "y"}})

    def test_extra_event_fields_are_ignored(self) -> None:
        assert matches_pattern({"a": ["x"]}, {"a": "x", "b": "anything"})

    @pytest.mark.parametrize(
        "operator", [{"anything-but": "x"}, {"prefix": "a", "suffix": "b"}, {"prefix": 3}]
    )
    def test_unsupported_operators_are_refused_not_guessed(
        self, operator: dict[str, object]
    ) -> None:
        with pytest.raises(ValueError, match="unsupported pattern operator"):
            matches_pattern({"a": [operator]}, {"a": "x"})
