"""The event path on DynamoDB: which calls one compliance-change event costs.

docs/behaviour.md forbids a Scan of the exceptions table on the event path; the rules table is
read whole once per cache period (it has no index on `RuleName`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from attrs import define

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from adapters.in_memory import FixedClock, InMemoryInventory
from application.handle_change import HandleComplianceChange
from domain.outcomes import Outcome
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
VOLUME = "AWS::EC2::Volume"


@define
class FakeMonotonic:
    now: float = 50.0

    def __call__(self) -> float:
        return self.now


@define
class EventPath:
    handle: HandleComplianceChange
    store: DynamoExceptionStore
    monotonic: FakeMonotonic
    calls: Any
    inventory: InMemoryInventory

    def send(self, rule: str, resource_type: str, resource_id: str) -> Outcome:
        event = deletion_event(
            account_id=ACCOUNT,
            region=REGION,
            rule_name=rule,
            resource_type=resource_type,
            resource_id=resource_id,
        )
        return self.handle.execute(event).outcome


@pytest.fixture
def path(
    dynamodb: DynamoDBClient,
    dynamo_store: DynamoExceptionStore,
    dynamo_catalog: DynamoRuleCatalog,
    call_log: Any,
) -> EventPath:
    monotonic = FakeMonotonic()
    catalog = DynamoRuleCatalog(
        dynamodb, dynamo_catalog.table_name, cache_seconds=300, monotonic=monotonic
    )
    catalog.add(Rule(7, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
    catalog.add(Rule(3, "ebs-plain", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE))
    for key, rule_id in [("sg-1", 7), ("sg-2", 7), ("vol-1,vol-2,vol-3", 3)]:
        dynamo_store.add(ExceptionRecord(RecordKey(ACCOUNT, rule_id, key), region=REGION))
    inventory = InMemoryInventory()
    inventory.put(ACCOUNT, REGION, SG, "sg-1", deleted=True)
    inventory.put(ACCOUNT, REGION, SG, "sg-2")
    for volume in ("vol-1", "vol-2"):
        inventory.put(ACCOUNT, REGION, VOLUME, volume, deleted=True)
    inventory.put(ACCOUNT, REGION, VOLUME, "vol-3")
    handle = HandleComplianceChange(catalog, dynamo_store, inventory, FixedClock())
    catalog.invalidate()
    call_log.clear()
    return EventPath(handle, dynamo_store, monotonic, call_log, inventory)


def test_events_cost_one_read_and_one_update_per_matched_record(path: EventPath) -> None:
    """Simple Resource-ID events read their key (GetItem); the others Query the partition."""
    exceptions = path.store.table_name

    assert path.send("sg-open", SG, "sg-1") is Outcome.CLOSED
    assert path.send("ebs-plain", VOLUME, "vol-1") is Outcome.MEMBER_DELETED
    assert path.send("sg-open", SG, "sg-1") is Outcome.DUPLICATE
    assert path.send("sg-open", SG, "sg-2") is Outcome.NOT_CONFIRMED
    assert path.send("not-a-known-rule", SG, "sg-9") is Outcome.IGNORED

    assert path.calls.count("Scan", exceptions) == 0
    # The composite; the duplicate, whose record under the ID is closed (its name may
    # still key an open record, which only the Query finds).
    assert path.calls.count("Query", exceptions) == 2
    assert path.calls.count("UpdateItem", exceptions) == 2
    # sg-1 open, sg-1 closed, sg-2 open: each event reads its own key once.
    assert path.calls.count("GetItem", exceptions) == 3
    assert path.calls.count("PutItem") == 0
    assert path.calls.count("Scan") == 1  # the rules table, once for the cache period
    closed = path.store.get(RecordKey(ACCOUNT, 7, "sg-1"))
    composite = path.store.get(RecordKey(ACCOUNT, 3, "vol-1,vol-2,vol-3"))
    assert closed is not None
    assert closed.status == CLOSED_STATUS
    assert composite is not None
    # vol-2 was confirmed in the same Config call as vol-1: one write records both.
    assert composite.deleted_members == {"vol-1", "vol-2"}


def test_the_rules_table_is_read_again_only_after_the_cache_period(path: EventPath) -> None:
    path.send("sg-open", SG, "sg-2")
    path.monotonic.now += 299
    path.send("sg-open", SG, "sg-2")
    assert path.calls.count("Scan") == 1

    path.monotonic.now += 1
    path.send("sg-open", SG, "sg-2")

    assert path.calls.count("Scan") == 2
    assert path.calls.count("Scan", path.store.table_name) == 0


def test_a_lost_race_is_reread_with_one_get_and_written_again(
    path: EventPath, dynamodb: DynamoDBClient
) -> None:
    # Another writer records vol-2 between this event's Query and its UpdateItem.
    path.inventory.put(ACCOUNT, REGION, VOLUME, "vol-2")
    other_writer_done = []

    def race(params: dict[str, Any], **_: Any) -> None:
        if not other_writer_done and params.get("TableName") == path.store.table_name:
            other_writer_done.append(True)
            dynamodb.update_item(
                TableName=path.store.table_name,
                Key={
                    "AccountId_RuleId": {"S": f"{ACCOUNT}_3"},
                    "Exception": {"S": "vol-1,vol-2,vol-3"},
                },
                UpdateExpression="ADD DeletedMembers :m",
                ExpressionAttributeValues={":m": {"SS": ["vol-2"]}},
            )

    dynamodb.meta.events.register("before-parameter-build.dynamodb.UpdateItem", race)

    assert path.send("ebs-plain", VOLUME, "vol-1") is Outcome.MEMBER_DELETED

    exceptions = path.store.table_name
    assert path.calls.count("Query", exceptions) == 1
    assert path.calls.count("GetItem", exceptions) == 1
    assert path.calls.count("UpdateItem", exceptions) == 3  # ours, the other writer's, ours
    composite = path.store.get(RecordKey(ACCOUNT, 3, "vol-1,vol-2,vol-3"))
    assert composite is not None
    assert composite.deleted_members == {"vol-1", "vol-2"}
    assert [e.member for e in composite.history] == ["vol-1"]
