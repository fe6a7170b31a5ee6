"""A closed record is never written again, and the TTL is integer epoch seconds.

docs/behaviour.md: `TTL` is a Number of epoch seconds, close time + `ELM_RETENTION_DAYS`, set only
when closing. DynamoDB's TTL ignores anything else (a string, or milliseconds, which read as
a date thousands of years away), so a wrong type silently keeps the record forever; and a
second write to a closed record would push its expiry back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from reliability_aws import EXCEPTIONS_TABLE, RULES_TABLE, WriteLog

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from adapters.in_memory import FixedClock, InMemoryInventory
from application.handle_change import HandleComplianceChange, Policy
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
VOLUME = "AWS::EC2::Volume"
SIMPLE = Rule(1, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
COMPOSITE = Rule(2, "ebs-plain", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE)
CLOSED_AT = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)


def _handle(
    client: DynamoDBClient, clock: FixedClock, retention_days: int = 90
) -> HandleComplianceChange:
    inventory = InMemoryInventory()
    inventory.put(ACCOUNT, REGION, SG, "sg-1", deleted=True)
    for volume in ("vol-1", "vol-2"):
        inventory.put(ACCOUNT, REGION, VOLUME, volume, deleted=True)
    return HandleComplianceChange(
        DynamoRuleCatalog(client, RULES_TABLE),
        DynamoExceptionStore(client, EXCEPTIONS_TABLE),
        inventory,
        clock,
        Policy(retention_days=retention_days),
    )


def _event(rule: Rule, resource_type: str, resource_id: str, event_id: str) -> str:
    return json.dumps(
        deletion_event(
            account_id=ACCOUNT,
            region=REGION,
            rule_name=rule.name,
            resource_type=resource_type,
            resource_id=resource_id,
            event_id=event_id,
        )
    )


def _item(client: DynamoDBClient, rule: Rule, key: str) -> dict[str, Any]:
    response = client.get_item(
        TableName=EXCEPTIONS_TABLE,
        Key={"AccountId_RuleId": {"S": f"{ACCOUNT}_{rule.rule_id}"}, "Exception": {"S": key}},
        ConsistentRead=True,
    )
    return dict(response["Item"])


@pytest.fixture
def tables(server_aws: list[DynamoDBClient]) -> DynamoDBClient:
    client = server_aws[0]
    catalog = DynamoRuleCatalog(client, RULES_TABLE)
    catalog.add(SIMPLE)
    catalog.add(COMPOSITE)
    store = DynamoExceptionStore(client, EXCEPTIONS_TABLE)
    store.add(ExceptionRecord(RecordKey(ACCOUNT, SIMPLE.rule_id, "sg-1"), region=REGION))
    store.add(ExceptionRecord(RecordKey(ACCOUNT, COMPOSITE.rule_id, "vol-1,vol-2"), region=REGION))
    return client


@pytest.mark.moto
@pytest.mark.parametrize(
    ("rule", "key", "resource_type", "closing"),
    [
        (SIMPLE, "sg-1", SG, ("sg-1",)),
        (COMPOSITE, "vol-1,vol-2", VOLUME, ("vol-2",)),
    ],
    ids=["simple", "composite"],
)
def test_a_closed_record_receiving_another_deletion_event_is_not_written_at_all(
    tables: DynamoDBClient,
    write_log: WriteLog,
    rule: Rule,
    key: str,
    resource_type: str,
    closing: tuple[str, ...],
) -> None:
    clock = FixedClock(CLOSED_AT)
    handle = _handle(tables, clock)
    for resource_id in closing:
        assert handle.execute(_event(rule, resource_type, resource_id, "evt-close")).outcome in (
            Outcome.CLOSED,
            Outcome.MEMBER_DELETED,
        )
    closed = _item(tables, rule, key)
    assert closed["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
    write_log.clear()

    clock.advance(timedelta(days=30))  # a later write would carry a later TTL
    for resource_id in key.split(","):
        again = handle.execute(_event(rule, resource_type, resource_id, f"evt-late-{resource_id}"))
        assert again.outcome is Outcome.DUPLICATE

    assert write_log.count(EXCEPTIONS_TABLE) == 0
    assert _item(tables, rule, key) == closed


@pytest.mark.moto
@pytest.mark.parametrize(
    "closed_at",
    [
        CLOSED_AT,
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2027, 6, 1, 1, 30, 0, 250_000, tzinfo=timezone(timedelta(hours=2))),
    ],
    ids=["whole-second", "sub-second", "other-zone"],
)
@pytest.mark.parametrize("retention_days", [1, 90, 3650])
@pytest.mark.parametrize(
    ("rule", "key", "resource_type", "resource_id"),
    [(SIMPLE, "sg-1", SG, "sg-1"), (COMPOSITE, "vol-1,vol-2", VOLUME, "vol-1")],
    ids=["simple", "composite"],
)
def test_ttl_is_an_integer_epoch_seconds_number_equal_to_close_time_plus_retention(
    tables: DynamoDBClient,
    closed_at: datetime,
    retention_days: int,
    rule: Rule,
    key: str,
    resource_type: str,
    resource_id: str,
) -> None:
    handle = _handle(tables, FixedClock(closed_at), retention_days)
    # The composite closes on its first event: Config confirms both members in one call.
    outcome = handle.execute(_event(rule, resource_type, resource_id, "evt-close")).outcome
    assert outcome is Outcome.CLOSED

    ttl = _item(tables, rule, key)["TTL"]
    assert list(ttl) == ["N"]
    assert ttl["N"].isdigit()  # no sign, no point, no exponent
    expected = int(closed_at.timestamp()) + retention_days * 86_400
    assert int(ttl["N"]) == expected
    assert len(ttl["N"]) == 10  # seconds in this century; milliseconds would have 13 digits
    assert (
        DynamoExceptionStore(tables, EXCEPTIONS_TABLE).get(RecordKey(ACCOUNT, rule.rule_id, key))
        is not None
    )
