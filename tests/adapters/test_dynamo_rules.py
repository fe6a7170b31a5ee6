"""What only the DynamoDB rule catalog does: its cache, and leaving other attributes alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from attrs import define

from adapters.aws import DynamoRuleCatalog
from adapters.aws.dynamo_items import rule_to_item
from application.errors import RecordFormatError
from domain.rules import ExceptionFormat, ExceptionType, Rule

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SG_RULE = Rule(7, "sg-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
S3_RULE = Rule(12, "s3-public-read", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE)


@define
class FakeMonotonic:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lookups_within_a_cache_period_read_the_table_once(
    dynamodb: DynamoDBClient, dynamo_catalog: DynamoRuleCatalog, call_log: Any
) -> None:
    clock = FakeMonotonic()
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=rule_to_item(SG_RULE))
    catalog = DynamoRuleCatalog(
        dynamodb, dynamo_catalog.table_name, cache_seconds=300, monotonic=clock
    )
    call_log.clear()

    for _ in range(5):
        assert catalog.find_by_name("sg-open-ingress") == SG_RULE
        assert catalog.find_by_name("unknown") is None
        assert catalog.get(7) == SG_RULE
        clock.now += 59

    assert call_log.count("Scan") == 1
    assert len(call_log.calls) == 1


def test_a_rule_written_elsewhere_is_seen_once_the_cache_period_ends(
    dynamodb: DynamoDBClient, dynamo_catalog: DynamoRuleCatalog, call_log: Any
) -> None:
    clock = FakeMonotonic()
    catalog = DynamoRuleCatalog(
        dynamodb, dynamo_catalog.table_name, cache_seconds=300, monotonic=clock
    )
    assert catalog.find_by_name("s3-public-read") is None
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=rule_to_item(S3_RULE))

    clock.now += 299
    assert catalog.find_by_name("s3-public-read") is None
    clock.now += 1
    assert catalog.find_by_name("s3-public-read") == S3_RULE

    assert call_log.count("Scan") == 2


def test_add_drops_the_cache_so_the_new_rule_is_seen_at_once(
    dynamo_catalog: DynamoRuleCatalog, call_log: Any
) -> None:
    assert dynamo_catalog.find_by_name("sg-open-ingress") is None

    dynamo_catalog.add(SG_RULE)

    assert dynamo_catalog.find_by_name("sg-open-ingress") == SG_RULE
    assert call_log.count("Scan") == 2


def test_add_keeps_attributes_elm_does_not_model(
    dynamodb: DynamoDBClient, dynamo_catalog: DynamoRuleCatalog
) -> None:
    item = {**rule_to_item(SG_RULE), "Owner": {"S": "platform-team"}}
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=item)

    dynamo_catalog.add(Rule(7, "sg-renamed", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))

    stored = dynamodb.get_item(TableName=dynamo_catalog.table_name, Key={"RuleId": {"N": "7"}})
    assert stored["Item"]["Owner"] == {"S": "platform-team"}
    assert stored["Item"]["RuleName"] == {"S": "sg-renamed"}


def test_a_malformed_rule_item_is_reported_by_key_and_attribute(
    dynamodb: DynamoDBClient, dynamo_catalog: DynamoRuleCatalog
) -> None:
    item = {**rule_to_item(SG_RULE), "ExceptionFormat": {"S": "Resource Name"}}
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=item)

    # One bad item fails only the lookups that need it: the others are still served.
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=rule_to_item(S3_RULE))
    assert dynamo_catalog.list_rules() == [S3_RULE]
    assert dynamo_catalog.find_by_name(S3_RULE.name) == S3_RULE
    with pytest.raises(RecordFormatError, match=r"RuleId=7.*ExceptionFormat.*Resource Name"):
        dynamo_catalog.find_by_name(SG_RULE.name)
    assert [u.item for u in dynamo_catalog.unreadable()] == ["(RuleId=7)"]


def test_an_item_without_a_readable_name_fails_lookups_of_unknown_names(
    dynamodb: DynamoDBClient, dynamo_catalog: DynamoRuleCatalog
) -> None:
    item = rule_to_item(SG_RULE)
    del item["RuleName"]
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=item)
    dynamodb.put_item(TableName=dynamo_catalog.table_name, Item=rule_to_item(S3_RULE))

    assert dynamo_catalog.find_by_name(S3_RULE.name) == S3_RULE
    # The unknown name might be the nameless item's: fail (DLQ), never call it unknown.
    with pytest.raises(RecordFormatError, match=r"'sg-open-ingress'.*RuleId=7.*RuleName"):
        dynamo_catalog.find_by_name(SG_RULE.name)
