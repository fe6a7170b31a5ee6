"""The same event delivered twice and processed at the same moment changes the record once.

SQS delivers at least once, so two Lambdas can hold the same message (or two copies of it)
at once. Both read the open record before either writes: the inventory below holds each
worker at a barrier until both have decided to look the resource up, which makes the race
certain instead of likely. The conditional write lets exactly one of them through.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from attrs import define
from reliability_aws import EXCEPTIONS_TABLE, RULES_TABLE, WriteLog

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from adapters.in_memory import FixedClock, InMemoryInventory
from application.handle_change import ChangeResult, HandleComplianceChange
from application.ports import ResourceState
from domain.outcomes import Outcome
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
REGION = "eu-west-1"
TIMEOUT = 30.0


@define
class RacingInventory:
    """Holds every caller at a barrier, then answers from the twin: both have read first."""

    inventory: InMemoryInventory
    barrier: threading.Barrier

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        self.barrier.wait(timeout=TIMEOUT)
        return self.inventory.lookup(account_id, region, resource_type, resource_ids)


@define
class Case:
    rule: Rule
    key: str
    resource_type: str
    resource_id: str
    deleted: tuple[str, ...]
    closes: bool
    history: tuple[tuple[str, str | None], ...]


CASES = {
    "simple-id": Case(
        Rule(1, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE),
        "sg-0abc",
        "AWS::EC2::SecurityGroup",
        "sg-0abc",
        ("sg-0abc",),
        closes=True,
        history=(("closed", None),),
    ),
    "simple-arn": Case(
        Rule(2, "s3-public", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE),
        "arn:aws:s3:::my-bucket",
        "AWS::S3::Bucket",
        "my-bucket",
        ("my-bucket",),
        closes=True,
        history=(("closed", None),),
    ),
    "composite-member": Case(
        Rule(3, "ebs-plain", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE),
        "vol-1,vol-2,vol-3",
        "AWS::EC2::Volume",
        "vol-1",
        ("vol-1",),
        closes=False,
        history=(("member-deleted", "vol-1"),),
    ),
    "composite-last-member": Case(
        Rule(3, "ebs-plain", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE),
        "vol-1,vol-2",
        "AWS::EC2::Volume",
        "vol-2",
        ("vol-1", "vol-2"),
        closes=True,
        history=(("member-deleted", "vol-2"), ("closed", None)),
    ),
}


def _item(client: DynamoDBClient, rule_id: int, key: str) -> dict[str, Any]:
    response = client.get_item(
        TableName=EXCEPTIONS_TABLE,
        Key={"AccountId_RuleId": {"S": f"{ACCOUNT}_{rule_id}"}, "Exception": {"S": key}},
        ConsistentRead=True,
    )
    return dict(response["Item"])


@pytest.mark.moto
@pytest.mark.parametrize("name", CASES)
def test_one_event_in_two_messages_processed_at_once_changes_the_record_once(
    server_aws: list[DynamoDBClient], write_log: WriteLog, name: str
) -> None:
    case = CASES[name]
    setup, first, second = server_aws[:3]
    DynamoRuleCatalog(setup, RULES_TABLE).add(case.rule)
    store = DynamoExceptionStore(setup, EXCEPTIONS_TABLE)
    record = ExceptionRecord(RecordKey(ACCOUNT, case.rule.rule_id, case.key), region=REGION)
    if case.deleted[:-1]:  # the other members were recorded earlier
        record = ExceptionRecord(
            record.record_key, region=REGION, deleted_members=frozenset(case.deleted[:-1])
        )
    store.add(record)
    twin = InMemoryInventory()
    for resource_id in case.deleted:
        twin.put(ACCOUNT, REGION, case.resource_type, resource_id, deleted=True)
    inventory = RacingInventory(twin, threading.Barrier(2))
    body = json.dumps(
        deletion_event(
            account_id=ACCOUNT,
            region=REGION,
            rule_name=case.rule.name,
            resource_type=case.resource_type,
            resource_id=case.resource_id,
            event_id="evt-once",
        )
    )
    write_log.clear()
    results: list[ChangeResult] = []

    def deliver(client: DynamoDBClient) -> None:
        handle = HandleComplianceChange(
            DynamoRuleCatalog(client, RULES_TABLE),
            DynamoExceptionStore(client, EXCEPTIONS_TABLE),
            inventory,
            FixedClock(),
        )
        results.append(handle.execute(body))

    threads = [threading.Thread(target=deliver, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)

    transition = Outcome.CLOSED if case.closes else Outcome.MEMBER_DELETED
    assert sorted(r.outcome.value for r in results) == sorted(
        [transition.value, Outcome.DUPLICATE.value]
    )
    assert write_log.count(EXCEPTIONS_TABLE) == 1
    assert write_log.ttl_writes(EXCEPTIONS_TABLE) == (1 if case.closes else 0)
    item = _item(setup, case.rule.rule_id, case.key)
    history = [entry["M"] for entry in item["History"]["L"]]
    assert [(e["Action"]["S"], e.get("Member", {}).get("S")) for e in history] == list(case.history)
    assert {e["EventId"]["S"] for e in history} == {"evt-once"}
    if case.closes:
        assert item["ExceptionStatus"] == {"S": CLOSED_STATUS}
    else:
        assert item["ExceptionStatus"] == {"S": "ACTIVE"}
        assert "TTL" not in item
