"""What only the DynamoDB store does: the item format, other attributes, paging, AWS errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from adapters.aws import DynamoExceptionStore
from adapters.aws.dynamo_items import record_to_item
from application.errors import ConflictError, TransientError
from domain.lifecycle import Closure, RecordUpdate
from domain.outcomes import Outcome
from domain.records import ELM_AUTOMATION, Action, ExceptionRecord, HistoryEntry, RecordKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
AT = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)


def composite(deleted: frozenset[str] = frozenset()) -> ExceptionRecord:
    return ExceptionRecord(
        RecordKey(ACCOUNT, 3, "vol-1,vol-2"), region="eu-west-1", deleted_members=deleted
    )


def update(target: ExceptionRecord, added: str, *, close: bool) -> RecordUpdate:
    entries = [HistoryEntry("evt-1", AT, Action.MEMBER_DELETED, added)]
    if close:
        entries.append(HistoryEntry("evt-1", AT, Action.CLOSED))
    return RecordUpdate(
        record_key=target.record_key,
        outcome=Outcome.CLOSED if close else Outcome.MEMBER_DELETED,
        expected_deleted_count=len(target.deleted_members),
        members_added=frozenset({added}),
        history=tuple(entries),
        resource_type="AWS::EC2::Volume",
        last_modified_by=ELM_AUTOMATION,
        update_timestamp="03/04/2026 10:15:30",
        closure=Closure(ttl=1780654530) if close else None,
    )


def raw_item(dynamodb: DynamoDBClient, store: DynamoExceptionStore, key: RecordKey) -> Any:
    return dynamodb.get_item(
        TableName=store.table_name,
        Key={"AccountId_RuleId": {"S": key.partition_key}, "Exception": {"S": key.key}},
    )["Item"]


def test_writes_leave_attributes_elm_does_not_model(
    dynamodb: DynamoDBClient, dynamo_store: DynamoExceptionStore
) -> None:
    target = composite()
    extras = {
        "Justification": {"S": "legacy volumes, approved by CISO"},
        "ExpiryDate": {"S": "12/31/2026"},
        "Tags": {"M": {"team": {"S": "storage"}}},
    }
    dynamodb.put_item(TableName=dynamo_store.table_name, Item={**record_to_item(target), **extras})

    dynamo_store.apply(update(target, "vol-1", close=False))
    dynamo_store.apply(update(composite(frozenset({"vol-1"})), "vol-2", close=True))

    item = raw_item(dynamodb, dynamo_store, target.record_key)
    assert {k: item[k] for k in extras} == extras
    assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}


def test_a_closed_item_has_the_table_format_of_the_spec(
    dynamodb: DynamoDBClient, dynamo_store: DynamoExceptionStore
) -> None:
    target = composite(frozenset({"vol-1"}))
    dynamo_store.add(target)

    dynamo_store.apply(update(target, "vol-2", close=True))

    item = raw_item(dynamodb, dynamo_store, target.record_key)
    assert item["TTL"] == {"N": "1780654530"}
    assert item["RuleId"] == {"N": "3"}
    assert sorted(item["DeletedMembers"]["SS"]) == ["vol-1", "vol-2"]
    assert item["History"] == {
        "L": [
            {
                "M": {
                    "EventId": {"S": "evt-1"},
                    "At": {"S": "2026-03-04T10:15:30Z"},
                    "Action": {"S": "member-deleted"},
                    "Member": {"S": "vol-2"},
                }
            },
            {
                "M": {
                    "EventId": {"S": "evt-1"},
                    "At": {"S": "2026-03-04T10:15:30Z"},
                    "Action": {"S": "closed"},
                }
            },
        ]
    }
    assert item["LastModifiedBy"] == {"S": "ELM_AUTOMATION"}
    assert item["UpdateTimeStamp"] == {"S": "03/04/2026 10:15:30"}
    assert item["ResourceType"] == {"S": "AWS::EC2::Volume"}


def test_list_for_follows_query_pages(dynamo_store: DynamoExceptionStore, call_log: Any) -> None:
    keys = [f"{i:04d}-" + "x" * 1000 for i in range(1100)]
    for key in keys:
        dynamo_store.add(ExceptionRecord(RecordKey(ACCOUNT, 7, key), region="eu-west-1"))
    call_log.clear()

    assert len(dynamo_store.list_for(ACCOUNT, 7)) == len(keys)
    assert call_log.count("Query") >= 2
    assert call_log.count("Scan") == 0


def test_scan_open_reads_page_by_page(dynamo_store: DynamoExceptionStore, call_log: Any) -> None:
    for i in range(5):
        dynamo_store.add(ExceptionRecord(RecordKey(ACCOUNT, 7, f"sg-{i}"), region="eu-west-1"))
    call_log.clear()

    assert len(list(dynamo_store.scan_open(page_size=2))) == 5
    assert call_log.count("Scan") >= 3


def _fail_with(dynamodb: DynamoDBClient, error: Exception) -> None:
    def fail(**_: Any) -> None:
        raise error

    dynamodb.meta.events.register("before-call.dynamodb.*", fail)


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "AccessDeniedException", "InternalServerError"],
)
def test_aws_errors_become_transient_errors(
    dynamodb: DynamoDBClient, dynamo_store: DynamoExceptionStore, code: str
) -> None:
    _fail_with(dynamodb, ClientError({"Error": {"Code": code, "Message": "no"}}, "Query"))

    with pytest.raises(TransientError, match=code):
        dynamo_store.list_for(ACCOUNT, 7)
    with pytest.raises(TransientError, match=code):
        dynamo_store.apply(update(composite(), "vol-1", close=False))


def test_a_timeout_becomes_a_transient_error(
    dynamodb: DynamoDBClient, dynamo_store: DynamoExceptionStore
) -> None:
    _fail_with(dynamodb, ReadTimeoutError(endpoint_url="https://dynamodb"))

    with pytest.raises(TransientError, match="timeout"):
        dynamo_store.get(composite().record_key)


def test_a_failed_condition_is_a_conflict_not_a_transient_error(
    dynamo_store: DynamoExceptionStore,
) -> None:
    with pytest.raises(ConflictError):
        dynamo_store.apply(update(composite(), "vol-1", close=False))


def test_put_item_refuses_an_item_that_is_not_a_record(
    dynamo_store: DynamoExceptionStore,
) -> None:
    item = {**record_to_item(composite()), "TTL": {"S": "soon"}}

    with pytest.raises(ValueError, match="TTL"):
        dynamo_store.put_item(item)

    assert dynamo_store.get(composite().record_key) is None
