"""Parsing a "Config Configuration Item Change" event, and which of them are deletions.

The fields and forms follow AWS Config's documentation: the configuration item's status
values ("ConfigurationItem", AWS Config API Reference,
https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigurationItem.html: OK,
ResourceDiscovered, ResourceNotRecorded, ResourceDeleted, ResourceDeletedNotRecorded), and the
oversized notification that carries a `configurationItemSummary` instead of the item
("Example Oversized Configuration Item Change Notification", AWS Config Developer Guide,
https://docs.aws.amazon.com/config/latest/developerguide/oversized-notification-example.html).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from domain.deletion import configuration_item_pattern, is_configuration_item_deletion
from domain.events import (
    DELETED_ITEM_STATUSES,
    ComplianceChange,
    ConfigurationItemChange,
    InvalidEvent,
    parse_event,
)
from entrypoints.local.sample_events import configuration_item_event, deletion_event

EVENTS = Path(__file__).parent.parent / "events"


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def _item(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "account_id": "111122223333",
        "region": "eu-west-1",
        "resource_type": "AWS::EC2::SecurityGroup",
        "resource_id": "sg-0abc123",
        "resource_name": "web",
        "arn": "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0abc123",
        "event_id": "ci-1",
    }
    fields.update(overrides)
    return configuration_item_event(**fields)


def _reason(event: object) -> str:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event)
    message = str(caught.value)
    assert "\n" not in message, "a reason is one line"
    return message


def test_deleted_security_group_sample_carries_its_exact_identity() -> None:
    change = parse_event(_sample("ci-deleted-security-group.json"))

    assert change == ConfigurationItemChange(
        event_id="5b3c9e0a-7f1d-4c2e-9a61-0d2f4b8e1c77",
        resource_type="AWS::EC2::SecurityGroup",
        resource_id="sg-0c1d2e3f4a5b6c7d8",
        account_id="444455556666",
        region="eu-west-1",
        status="ResourceDeleted",
        resource_name="web-legacy",
        arn="arn:aws:ec2:eu-west-1:444455556666:security-group/sg-0c1d2e3f4a5b6c7d8",
        change_type="DELETE",
        oversized=False,
        envelope_account="444455556666",
        envelope_region="eu-west-1",
    )
    assert change.is_deleted
    assert change.rule_name is None


def test_oversized_sample_is_read_from_its_summary() -> None:
    change = parse_event(_sample("ci-oversized-deleted-role.json"))

    assert isinstance(change, ConfigurationItemChange)
    assert change.oversized
    assert (change.resource_type, change.resource_id, change.resource_name) == (
        "AWS::IAM::Role",
        "AROAXAMPLE0DEPLOY0001",
        "deploy-legacy",
    )
    assert change.arn == "arn:aws:iam::444455556666:role/deploy-legacy"
    assert (change.account_id, change.region, change.change_type) == (
        "444455556666",
        "us-east-1",
        "DELETE",
    )


def test_update_sample_parses_and_is_not_a_deletion() -> None:
    event = _sample("ci-updated-not-a-deletion.json")
    change = parse_event(event)

    assert isinstance(change, ConfigurationItemChange)
    assert change.resource_name is None  # volumes have no name: null in the item
    assert not change.is_deleted
    assert not is_configuration_item_deletion(event)


def test_the_two_deletion_samples_satisfy_the_pattern() -> None:
    assert is_configuration_item_deletion(_sample("ci-deleted-security-group.json"))
    assert is_configuration_item_deletion(_sample("ci-oversized-deleted-role.json"))


def test_compliance_change_events_still_parse_as_the_first_signal() -> None:
    event = deletion_event(
        account_id="111122223333",
        region="eu-west-1",
        rule_name="r",
        resource_type="AWS::EC2::SecurityGroup",
        resource_id="sg-1",
    )
    assert isinstance(parse_event(event), ComplianceChange)
    assert not is_configuration_item_deletion(event)


def test_without_a_detail_type_the_message_type_names_the_signal() -> None:
    event = _item()
    del event["detail-type"]

    assert isinstance(parse_event(event), ConfigurationItemChange)


@pytest.mark.parametrize("oversized", [False, True])
@pytest.mark.parametrize(
    ("status", "deleted"),
    [
        ("ResourceDeleted", True),
        ("ResourceDeletedNotRecorded", True),
        ("OK", False),
        ("ResourceDiscovered", False),
        ("ResourceNotRecorded", False),
        ("resourcedeleted", False),
        ("ResourceDeleted ", False),
    ],
)
def test_only_the_deleted_statuses_are_deletions_in_both_forms(
    status: str, deleted: bool, oversized: bool
) -> None:
    event = _item(status=status, oversized=oversized)

    change = parse_event(event)
    assert isinstance(change, ConfigurationItemChange)
    assert change.is_deleted is deleted
    assert is_configuration_item_deletion(event) is deleted


def test_deleted_statuses_are_the_two_aws_config_documents() -> None:
    assert DELETED_ITEM_STATUSES == ("ResourceDeleted", "ResourceDeletedNotRecorded")


def test_a_summary_under_the_normal_message_type_is_not_a_deletion() -> None:
    # The status is read where the message type says the item is: a mix is not AWS's shape.
    event = _item(oversized=True)
    event["detail"]["messageType"] = "ConfigurationItemChangeNotification"

    assert not is_configuration_item_deletion(event)
    assert _reason(event) == "detail.configurationItem is missing"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("resourceId", ...), "detail.configurationItem.resourceId is missing"),
        (("resourceId", ""), "detail.configurationItem.resourceId is empty"),
        (("resourceId", 7), "detail.configurationItem.resourceId must be a string (got number)"),
        (
            ("resourceId", "x" * 1025),
            "detail.configurationItem.resourceId is longer than 1024 characters (1025)",
        ),
        (("resourceType", ...), "detail.configurationItem.resourceType is missing"),
        (
            ("resourceType", "SecurityGroup"),
            "detail.configurationItem.resourceType must look like AWS::Service::Type "
            "(got 'SecurityGroup')",
        ),
        (
            ("awsAccountId", "12345"),
            "detail.configurationItem.awsAccountId must be 12 digits (got '12345')",
        ),
        (
            ("awsRegion", "Ireland"),
            "detail.configurationItem.awsRegion is not a region name (got 'Ireland')",
        ),
        (
            ("configurationItemStatus", ...),
            "detail.configurationItem.configurationItemStatus is missing",
        ),
        (
            ("resourceName", ["web"]),
            "detail.configurationItem.resourceName must be a string (got array)",
        ),
        (("ARN", 12), "detail.configurationItem.ARN must be a string (got number)"),
        (
            ("ARN", "arn:\x00"),
            "detail.configurationItem.ARN contains control characters (got 'arn:\\x00')",
        ),
    ],
)
def test_bad_item_fields_are_invalid_with_a_reason_naming_the_field(
    change: tuple[str, Any], reason: str
) -> None:
    event = _item()
    name, value = change
    if value is ...:
        del event["detail"]["configurationItem"][name]
    else:
        event["detail"]["configurationItem"][name] = value

    assert _reason(event) == reason


def test_bad_summary_fields_name_the_summary() -> None:
    event = _item(oversized=True)
    del event["detail"]["configurationItemSummary"]["resourceId"]

    assert _reason(event) == "detail.configurationItemSummary.resourceId is missing"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e.pop("detail"), "detail is missing"),
        (lambda e: e.update(detail=[]), "detail must be an object (got array)"),
        (lambda e: e.pop("id"), "id is missing"),
        (lambda e: e["detail"].pop("messageType"), "detail.messageType is missing"),
        (lambda e: e["detail"].pop("configurationItem"), "detail.configurationItem is missing"),
        (
            lambda e: e["detail"].update(configurationItem="x"),
            "detail.configurationItem must be an object (got string)",
        ),
        (
            lambda e: e["detail"].update(configurationItemDiff=[]),
            "detail.configurationItemDiff must be an object (got array)",
        ),
        (
            lambda e: e["detail"]["configurationItemDiff"].update(changeType=1),
            "detail.configurationItemDiff.changeType must be a string (got number)",
        ),
    ],
)
def test_bad_envelopes_are_invalid_with_a_one_line_reason(mutate: Any, reason: str) -> None:
    event = _item()
    mutate(event)

    assert _reason(event) == reason


def test_name_and_arn_are_optional_and_blank_means_absent() -> None:
    event = _item(resource_name=None, arn=None)
    change = parse_event(event)
    assert isinstance(change, ConfigurationItemChange)
    assert (change.resource_name, change.arn) == (None, None)

    event["detail"]["configurationItem"]["resourceName"] = ""
    del event["detail"]["configurationItem"]["ARN"]
    change = parse_event(event)
    assert isinstance(change, ConfigurationItemChange)
    assert (change.resource_name, change.arn) == (None, None)


def test_a_diff_without_change_type_or_no_diff_at_all_still_parses() -> None:
    event = _item()
    del event["detail"]["configurationItemDiff"]
    change = parse_event(event)
    assert isinstance(change, ConfigurationItemChange)
    assert change.change_type is None
    assert change.is_deleted


def test_pattern_names_the_source_detail_type_and_both_forms() -> None:
    pattern = configuration_item_pattern()

    assert pattern["source"] == ["aws.config"]
    assert pattern["detail-type"] == ["Config Configuration Item Change"]
    forms = {alt["messageType"][0]: alt for alt in pattern["detail"]["$or"]}
    assert set(forms) == {
        "ConfigurationItemChangeNotification",
        "OversizedConfigurationItemChangeNotification",
    }
    assert forms["ConfigurationItemChangeNotification"]["configurationItem"] == {
        "configurationItemStatus": ["ResourceDeleted", "ResourceDeletedNotRecorded"]
    }


def test_pattern_is_a_fresh_copy_each_time() -> None:
    pattern = configuration_item_pattern()
    copy.deepcopy(pattern)["detail"]["$or"].clear()
    pattern["detail"]["$or"].clear()

    assert configuration_item_pattern()["detail"]["$or"]
