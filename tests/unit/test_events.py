"""Parsing a Compliance Change event: what is accepted, and the one-line reason for what is not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from domain.events import (
    MAX_RESOURCE_ID_LENGTH,
    ComplianceChange,
    InvalidEvent,
    is_account_id,
    is_region_name,
)
from entrypoints.local.sample_events import compliance_change_event, deletion_event

EVENTS = Path(__file__).parent.parent / "events"


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def _event(**overrides: Any) -> dict[str, Any]:
    event = deletion_event(
        account_id="111122223333",
        region="eu-west-1",
        rule_name="sg-no-open-ingress",
        resource_type="AWS::EC2::SecurityGroup",
        resource_id="sg-0abc123",
        event_id="evt-1",
    )
    event.update(overrides)
    return event


def _with_detail(**fields: Any) -> dict[str, Any]:
    event = _event()
    for name, value in fields.items():
        if value is _DROP:
            del event["detail"][name]
        else:
            event["detail"][name] = value
    return event


_DROP = object()


def _reason(event: object) -> str:
    with pytest.raises(InvalidEvent) as caught:
        ComplianceChange.from_event(event)
    message = str(caught.value)
    assert "\n" not in message, "a reason is one line"
    return message


@pytest.mark.parametrize(
    ("name", "resource_type", "resource_id"),
    [
        ("deleted-simple-id.json", "AWS::EC2::SecurityGroup", "sg-0a1b2c3d4e5f60718"),
        ("deleted-arn-s3.json", "AWS::S3::Bucket", "elm-audit-logs-eu"),
        ("not-a-deletion.json", "AWS::EC2::SecurityGroup", "sg-0a1b2c3d4e5f60718"),
        ("forged-account.json", "AWS::EC2::SecurityGroup", "sg-0a1b2c3d4e5f60718"),
    ],
)
def test_every_well_formed_sample_parses_to_its_resource(
    name: str, resource_type: str, resource_id: str
) -> None:
    change = ComplianceChange.from_event(_sample(name))
    assert change.resource_type == resource_type
    assert change.resource_id == resource_id
    assert change.account_id == "111122223333"
    assert change.region == "eu-west-1"
    assert change.event_id == _sample(name)["id"]


def test_forged_sample_keeps_the_envelope_account_apart_from_the_detail_account() -> None:
    change = ComplianceChange.from_event(_sample("forged-account.json"))
    assert change.envelope_account == "999988887777"
    assert change.account_id == "111122223333"


def test_malformed_sample_is_invalid_naming_the_missing_resource_id() -> None:
    assert _reason(_sample("malformed-missing-resource-id.json")) == "detail.resourceId is missing"


def test_samples_directory_holds_only_the_samples_this_suite_knows() -> None:
    # A new sample must get an expectation above, or it is not tested at all.
    known = {
        "deleted-simple-id.json",
        "deleted-arn-s3.json",
        "not-a-deletion.json",
        "forged-account.json",
        "malformed-missing-resource-id.json",
        # Configuration item changes: tests/unit/test_configuration_item.py.
        "ci-deleted-security-group.json",
        "ci-oversized-deleted-role.json",
        "ci-updated-not-a-deletion.json",
    }
    assert {p.name for p in EVENTS.glob("*.json")} == known


def test_parsed_event_carries_every_field_the_decisions_use() -> None:
    change = ComplianceChange.from_event(_event())
    assert change == ComplianceChange(
        event_id="evt-1",
        rule_name="sg-no-open-ingress",
        resource_type="AWS::EC2::SecurityGroup",
        resource_id="sg-0abc123",
        account_id="111122223333",
        region="eu-west-1",
        envelope_account="111122223333",
        envelope_region="eu-west-1",
    )


def test_envelope_account_and_region_are_optional() -> None:
    event = _event()
    del event["account"], event["region"]
    change = ComplianceChange.from_event(event)
    assert (change.envelope_account, change.envelope_region) == (None, None)


def test_evaluation_results_are_optional() -> None:
    event = compliance_change_event(
        account_id="111122223333",
        region="eu-west-1",
        rule_name="r",
        resource_type="AWS::S3::Bucket",
        resource_id="b",
        old_compliance=None,
        new_annotation=None,
    )
    assert ComplianceChange.from_event(event).resource_id == "b"


def test_resource_id_of_exactly_the_maximum_length_is_accepted() -> None:
    long_id = "x" * MAX_RESOURCE_ID_LENGTH
    assert ComplianceChange.from_event(_with_detail(resourceId=long_id)).resource_id == long_id


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([], "event is not a JSON object (got array)"),
        ("text", "event is not a JSON object (got string)"),
        (None, "event is not a JSON object (got null)"),
        (42, "event is not a JSON object (got number)"),
    ],
)
def test_an_event_that_is_not_an_object_is_invalid(event: object, reason: str) -> None:
    assert _reason(event) == reason


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("id", "id is missing"),
        ("detail", "detail is missing"),
    ],
)
def test_missing_top_level_field_is_named(field: str, reason: str) -> None:
    event = _event()
    del event[field]
    assert _reason(event) == reason


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"id": 7}, "id must be a string (got number)"),
        ({"id": ""}, "id is empty"),
        ({"id": "x" * 257}, "id is longer than 256 characters (257)"),
        ({"account": 111122223333}, "account must be a string (got number)"),
        ({"region": ["eu-west-1"]}, "region must be a string (got array)"),
        ({"source": {"a": 1}}, "source must be a string (got object)"),
        ({"detail-type": True}, "detail-type must be a string (got boolean)"),
        ({"detail": "text"}, "detail must be an object (got string)"),
        ({"detail": []}, "detail must be an object (got array)"),
        ({"detail": 3}, "detail must be an object (got number)"),
    ],
)
def test_wrong_typed_top_level_field_is_named(overrides: dict[str, Any], reason: str) -> None:
    assert _reason(_event(**overrides)) == reason


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("messageType", "detail.messageType is missing"),
        ("configRuleName", "detail.configRuleName is missing"),
        ("resourceType", "detail.resourceType is missing"),
        ("resourceId", "detail.resourceId is missing"),
        ("awsAccountId", "detail.awsAccountId is missing"),
        ("awsRegion", "detail.awsRegion is missing"),
    ],
)
def test_missing_detail_field_is_named(field: str, reason: str) -> None:
    assert _reason(_with_detail(**{field: _DROP})) == reason


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("resourceId", None, "detail.resourceId is missing"),
        ("resourceId", 12345, "detail.resourceId must be a string (got number)"),
        ("resourceId", ["sg-1"], "detail.resourceId must be a string (got array)"),
        ("awsAccountId", 111122223333, "detail.awsAccountId must be a string (got number)"),
        ("awsRegion", False, "detail.awsRegion must be a string (got boolean)"),
        ("configRuleName", {}, "detail.configRuleName must be a string (got object)"),
        ("resourceType", 1.5, "detail.resourceType must be a string (got number)"),
        ("messageType", [], "detail.messageType must be a string (got array)"),
    ],
)
def test_wrong_typed_detail_field_is_named(field: str, value: object, reason: str) -> None:
    assert _reason(_with_detail(**{field: value})) == reason


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ("11112222333", "detail.awsAccountId must be 12 digits (got '11112222333')"),
        ("1111222233334", "detail.awsAccountId must be 12 digits (got '1111222233334')"),
        ("11112222333a", "detail.awsAccountId must be 12 digits (got '11112222333a')"),
        (" 111122223333", "detail.awsAccountId must be 12 digits (got ' 111122223333')"),
        ("", "detail.awsAccountId is empty"),
    ],
)
def test_account_that_is_not_twelve_ascii_digits_is_invalid(account: str, reason: str) -> None:
    assert _reason(_with_detail(awsAccountId=account)) == reason


@pytest.mark.parametrize(
    "region", ["eu-west", "EU-WEST-1", "euwest1", "eu-west-1 ", "e-west-1", "eu-west-100", "1"]
)
def test_region_that_is_not_a_region_name_is_invalid(region: str) -> None:
    assert _reason(_with_detail(awsRegion=region)) == (
        f"detail.awsRegion is not a region name (got {region!r})"
    )


@pytest.mark.parametrize(
    "resource_type", ["SecurityGroup", "AWS::EC2", "AWS::EC2::Security Group", "AWS:EC2:Bucket"]
)
def test_resource_type_not_shaped_like_a_type_is_invalid(resource_type: str) -> None:
    assert _reason(_with_detail(resourceType=resource_type)) == (
        f"detail.resourceType must look like AWS::Service::Type (got {resource_type!r})"
    )


@pytest.mark.parametrize(
    ("resource_id", "reason"),
    [
        ("", "detail.resourceId is empty"),
        ("   ", "detail.resourceId is empty"),
        (
            "x" * (MAX_RESOURCE_ID_LENGTH + 1),
            f"detail.resourceId is longer than 1024 characters ({MAX_RESOURCE_ID_LENGTH + 1})",
        ),
        ("sg-1\nforged log line", "detail.resourceId contains control characters"),
        ("sg-1\x00", "detail.resourceId contains control characters"),
        ("sg-1\x1b[31m", "detail.resourceId contains control characters"),
        ("sg-1\x85", "detail.resourceId contains control characters"),
    ],
)
def test_resource_id_empty_too_long_or_with_control_characters_is_invalid(
    resource_id: str, reason: str
) -> None:
    assert _reason(_with_detail(resourceId=resource_id)).startswith(reason)


def test_control_characters_are_escaped_in_the_reason() -> None:
    reason = _reason(_with_detail(resourceId="sg-1\nINFO forged"))
    assert reason == "detail.resourceId contains control characters (got 'sg-1\\nINFO forged')"


def test_a_long_bad_value_is_shortened_in_the_reason() -> None:
    reason = _reason(_with_detail(awsAccountId="9" * 100))
    assert reason == f"detail.awsAccountId must be 12 digits (got {'9' * 40!r}…)"


def test_rule_name_longer_than_128_characters_is_invalid() -> None:
    assert _reason(_with_detail(configRuleName="r" * 129)) == (
        "detail.configRuleName is longer than 128 characters (129)"
    )


@pytest.mark.parametrize("result", ["oldEvaluationResult", "newEvaluationResult"])
@pytest.mark.parametrize(("value", "kind"), [("text", "string"), ([], "array"), (1, "number")])
def test_evaluation_result_that_is_not_an_object_is_invalid(
    result: str, value: object, kind: str
) -> None:
    assert _reason(_with_detail(**{result: value})) == (
        f"detail.{result} must be an object (got {kind})"
    )


@pytest.mark.parametrize("result", ["oldEvaluationResult", "newEvaluationResult"])
@pytest.mark.parametrize("field", ["complianceType", "annotation"])
def test_evaluation_result_field_of_the_wrong_type_is_invalid(result: str, field: str) -> None:
    event = _event()
    event["detail"][result][field] = 5
    assert _reason(event) == f"detail.{result}.{field} must be a string (got number)"


def test_parsing_does_not_change_the_event() -> None:
    event = _event()
    before = copy.deepcopy(event)
    ComplianceChange.from_event(event)
    assert event == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("111122223333", True),
        ("000000000000", True),
        ("11112222333", False),
        ("111122223333\n", False),
        (111122223333, False),
        (None, False),
    ],
)
def test_is_account_id(value: object, expected: bool) -> None:
    assert is_account_id(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("eu-west-1", True),
        ("us-gov-west-1", True),
        ("ap-southeast-2", True),
        ("cn-northwest-1", True),
        ("il-central-1", True),
        ("eu-west-", False),
        ("eu-west-1\n", False),
        ("global", False),
        (None, False),
    ],
)
def test_is_region_name(value: object, expected: bool) -> None:
    assert is_region_name(value) is expected


@pytest.mark.parametrize("digits", ["\u0661" * 12, "\uff11" * 12, "11112222333\u0663"])
def test_account_of_non_ascii_digits_is_invalid(digits: str) -> None:
    # Python's \d matches any Unicode digit; an account id is twelve ASCII digits.
    assert is_account_id(digits) is False
    assert _reason(_with_detail(awsAccountId=digits)).startswith(
        "detail.awsAccountId must be 12 digits"
    )


@pytest.mark.parametrize("region", ["eu-west-\u0661", "eu-west-\uff11"])
def test_region_with_non_ascii_digits_is_invalid(region: str) -> None:
    assert is_region_name(region) is False
    assert _reason(_with_detail(awsRegion=region)).startswith("detail.awsRegion is not a region")
