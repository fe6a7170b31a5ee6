"""What only the DynamoDB store does: the item format, other attributes, paging, AWS errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber

from adapters.aws import DynamoExceptionStore
from adapters.aws.dynamo_items import record_to_item
from application.errors import ConflictError, RecordFormatError, TransientError
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


# --- BatchGetItem: what moto never does ----------------------------------------------------
# "BatchGetItem", Amazon DynamoDB API Reference
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html): a
# call reads at most 100 items and 16 MB; when it reads only part (the 16 MB limit, a
# throttled table or partition, an internal failure) it succeeds and returns the keys it did
# not read in `UnprocessedKeys`, to be asked again, with exponential back-off. moto (5.2)
# has no throughput to exceed and never fails internally: it leaves keys unprocessed only past
# 16 MB of items (a test would have to store 100 items of 170 KB). So these answers are stubbed.

STUBBED_TABLE = "Stubbed-ResourceExceptions"


def _stubbed_store(*, attempts: int = 4) -> tuple[DynamoExceptionStore, Stubber, list[float]]:
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    ).client("dynamodb")
    slept: list[float] = []
    store = DynamoExceptionStore(
        client, STUBBED_TABLE, batch_get_attempts=attempts, sleep=slept.append
    )
    return store, Stubber(client), slept


def _keys(*records: ExceptionRecord) -> list[dict[str, Any]]:
    return [
        {"AccountId_RuleId": {"S": r.record_key.partition_key}, "Exception": {"S": r.key}}
        for r in records
    ]


def _asked(*records: ExceptionRecord) -> dict[str, Any]:
    return {"RequestItems": {STUBBED_TABLE: {"Keys": _keys(*records), "ConsistentRead": True}}}


def _answered(
    found: list[ExceptionRecord], unprocessed: list[ExceptionRecord] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "Responses": {STUBBED_TABLE: [record_to_item(r) for r in found]},
        "UnprocessedKeys": {},
    }
    if unprocessed:
        response["UnprocessedKeys"] = {
            STUBBED_TABLE: {"Keys": _keys(*unprocessed), "ConsistentRead": True}
        }
    return response


def _records(count: int) -> list[ExceptionRecord]:
    return [
        ExceptionRecord(RecordKey(ACCOUNT, 7, f"sg-{n}"), region="eu-west-1") for n in range(count)
    ]


def test_unprocessed_keys_are_asked_again_until_every_key_is_read() -> None:
    store, stubber, slept = _stubbed_store()
    a, b, c = _records(3)
    stubber.add_response("batch_get_item", _answered([a], unprocessed=[b, c]), _asked(a, b, c))
    stubber.add_response("batch_get_item", _answered([b], unprocessed=[c]), _asked(b, c))
    stubber.add_response("batch_get_item", _answered([c]), _asked(c))

    with stubber:
        found = store.get_many([a.record_key, b.record_key, c.record_key])

    stubber.assert_no_pending_responses()
    assert found == {r.record_key: r for r in (a, b, c)}
    # A short pause before each retry, doubling, with jitter: within [half, all] of it.
    assert len(slept) == 2
    assert 0.025 <= slept[0] <= 0.05
    assert 0.05 <= slept[1] <= 0.1


def test_keys_still_unprocessed_after_the_last_attempt_fail_with_how_many() -> None:
    store, stubber, slept = _stubbed_store(attempts=3)
    a, b, c = _records(3)
    stubber.add_response("batch_get_item", _answered([a], unprocessed=[b, c]), _asked(a, b, c))
    stubber.add_response("batch_get_item", _answered([], unprocessed=[b, c]), _asked(b, c))
    stubber.add_response("batch_get_item", _answered([b], unprocessed=[c]), _asked(b, c))

    with (
        stubber,
        pytest.raises(TransientError, match="1 of 3 keys still unprocessed after 3 attempts"),
    ):
        store.get_many([a.record_key, b.record_key, c.record_key])

    stubber.assert_no_pending_responses()
    assert len(slept) == 2


def test_a_refused_batch_read_is_a_transient_error_naming_the_table() -> None:
    store, stubber, _ = _stubbed_store()
    (a,) = _records(1)
    stubber.add_client_error("batch_get_item", "AccessDeniedException", "not allowed", 400)

    with stubber, pytest.raises(TransientError, match=f"{STUBBED_TABLE}.*AccessDeniedException"):
        store.get_many([a.record_key])


def test_a_batch_read_timeout_becomes_a_transient_error(
    dynamodb: DynamoDBClient, dynamo_store: DynamoExceptionStore
) -> None:
    _fail_with(dynamodb, ReadTimeoutError(endpoint_url="https://dynamodb"))

    with pytest.raises(TransientError, match="timeout"):
        dynamo_store.get_many([composite().record_key])


def test_an_unreadable_item_fails_get_many_as_it_fails_get(
    dynamodb: DynamoDBClient, dynamo_store: DynamoExceptionStore
) -> None:
    readable = composite()
    dynamo_store.add(readable)
    broken = RecordKey(ACCOUNT, 3, "vol-9")
    dynamodb.put_item(
        TableName=dynamo_store.table_name,
        Item={**record_to_item(ExceptionRecord(broken, "eu-west-1")), "RuleId": {"S": "three"}},
    )

    with pytest.raises(RecordFormatError, match="RuleId") as from_get:
        dynamo_store.get(broken)
    with pytest.raises(RecordFormatError, match="RuleId") as from_get_many:
        dynamo_store.get_many([readable.record_key, broken])

    assert str(from_get_many.value) == str(from_get.value)
