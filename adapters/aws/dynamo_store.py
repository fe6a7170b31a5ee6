"""`Config-ResourceExceptions` on DynamoDB: the `ExceptionStore` port."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adapters.aws.dynamo_items import (
    EXCEPTIONS_HASH_KEY,
    MalformedItemError,
    history_to_attribute,
    item_key,
    record_from_item,
    record_to_item,
)
from adapters.aws.errors import translated
from application.errors import TransientError
from application.ports import MAX_KEYS_PER_BATCH_GET, UnreadableItem
from domain.lifecycle import RecordUpdate, Reopening
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

__all__ = ["DynamoExceptionStore"]

# Every attribute goes through a placeholder: `TTL`, `Region` and others are reserved words.
_NAMES = {
    "#pk": EXCEPTIONS_HASH_KEY,
    "#status": "ExceptionStatus",
    "#deleted": "DeletedMembers",
    "#history": "History",
    "#by": "LastModifiedBy",
    "#stamp": "UpdateTimeStamp",
    "#type": "ResourceType",
    "#ttl": "TTL",
}

_BATCH_GET_PAUSE = 0.05
"""Seconds before the first re-request of unprocessed keys; doubled before each next one."""


class DynamoExceptionStore:
    """Exception records in a DynamoDB table keyed (`AccountId_RuleId`, `Exception`).

    The event path reads with one consistent Query per (account, rule) and writes each
    change with one conditional UpdateItem, which touches only the attributes ELM owns:
    whatever else an item holds survives. The sweep reads a chunk's records with
    `BatchGetItem` (`get_many`), re-asking for unprocessed keys at most
    ``batch_get_attempts`` times in all, with a short doubling pause (``sleep``) between.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        batch_get_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch_get_attempts < 1:
            raise ValueError("batch_get_attempts must be at least 1")
        self._client = client
        self._table = table_name
        self._batch_get_attempts = batch_get_attempts
        self._sleep = sleep

    @property
    def table_name(self) -> str:
        """The table's name."""
        return self._table

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        """Every record under one `AccountId_RuleId`: a consistent, paginated Query."""
        partition = f"{account_id}_{rule_id}"
        records: list[ExceptionRecord] = []
        start: dict[str, AttributeValueTypeDef] | None = None
        while True:
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": EXCEPTIONS_HASH_KEY},
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "ConsistentRead": True,
            }
            if start:
                request["ExclusiveStartKey"] = start
            with translated(f"query {self._table} for {partition}"):
                page = self._client.query(**request)
            records.extend(record_from_item(item) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return records

    def get(self, record_key: RecordKey) -> ExceptionRecord | None:
        """One record, read consistently, or None."""
        item = self.get_item(record_key)
        return None if item is None else record_from_item(item)

    def get_many(self, record_keys: Sequence[RecordKey]) -> dict[RecordKey, ExceptionRecord]:
        """The records that exist among ``record_keys``: consistent `BatchGetItem` calls.

        "BatchGetItem", Amazon DynamoDB API Reference
        (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html):
        a call reads at most 100 items and 16 MB, eventually consistent unless the table's
        ``ConsistentRead`` is true; a request over 100 keys is a ValidationException, and so
        is one naming a key twice ("Provided list of item keys contains duplicates"). A call
        that reads only part (the 16 MB limit, throttling, an internal failure) succeeds and
        returns the rest in ``UnprocessedKeys``, to be asked again with exponential back-off.

        So the keys are de-duplicated and asked 100 a call, each call's unprocessed keys
        again after a short jittered pause, doubling, ``batch_get_attempts`` times in all;
        keys still unread then raise `TransientError` (the caller's work is retried whole).
        An item that does not read as a record raises `MalformedItemError`, as `get` does.
        """
        unique = list(dict.fromkeys(record_keys))
        found: dict[RecordKey, ExceptionRecord] = {}
        for start in range(0, len(unique), MAX_KEYS_PER_BATCH_GET):
            for item in self._batch_get(unique[start : start + MAX_KEYS_PER_BATCH_GET]):
                record = record_from_item(item)
                found[record.record_key] = record
        return found

    def _batch_get(self, record_keys: Sequence[RecordKey]) -> list[Mapping[str, Any]]:
        """Every item of at most 100 distinct keys, unprocessed keys asked again."""
        pending: list[Any] = [item_key(k) for k in record_keys]
        items: list[Mapping[str, Any]] = []
        for attempt in range(self._batch_get_attempts):
            if attempt:
                pause = _BATCH_GET_PAUSE * 2 ** (attempt - 1)
                self._sleep(pause / 2 + random.uniform(0, pause / 2))  # noqa: S311 (jitter)
            with translated(f"batch get {len(pending)} items of {self._table}"):
                response = self._client.batch_get_item(
                    RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}}
                )
            items.extend(response.get("Responses", {}).get(self._table, []))
            unprocessed = response.get("UnprocessedKeys", {}).get(self._table)
            pending = list(unprocessed["Keys"]) if unprocessed else []
            if not pending:
                return items
        raise TransientError(
            f"batch get from {self._table}: {len(pending)} of {len(record_keys)} keys still "
            f"unprocessed after {self._batch_get_attempts} attempts"
        )

    def get_item(self, record_key: RecordKey) -> dict[str, AttributeValueTypeDef] | None:
        """One item as stored, every attribute, read consistently, or None."""
        with translated(f"get {self._describe(record_key)}"):
            response = self._client.get_item(
                TableName=self._table, Key=item_key(record_key), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else dict(item)

    def apply(self, update: RecordUpdate) -> None:
        """One conditional UpdateItem; `ConflictError` when the record moved on.

        The condition is the state the update was decided from: the item exists, is open,
        still has ``expected_deleted_count`` deleted members (members are only ever added,
        so the same count means the same set) and holds none of the members being added.
        """
        values: dict[str, AttributeValueTypeDef] = {
            ":closed": {"S": CLOSED_STATUS},
            ":by": {"S": update.last_modified_by},
            ":stamp": {"S": update.update_timestamp},
        }
        conditions = ["attribute_exists(#pk)", "#status <> :closed"]
        sets = ["#by = :by", "#stamp = :stamp"]
        if update.resource_type is not None:
            # Set only on a record without one or with this one: never overwrite another.
            values[":type"] = {"S": update.resource_type}
            conditions.append("(attribute_not_exists(#type) OR #type = :type)")
            sets.append("#type = :type")
        if update.expected_deleted_count == 0:
            conditions.append("attribute_not_exists(#deleted)")
        else:
            values[":count"] = {"N": str(update.expected_deleted_count)}
            conditions.append("size(#deleted) = :count")
            for index, member in enumerate(sorted(update.members_added)):
                values[f":m{index}"] = {"S": member}
                conditions.append(f"NOT contains(#deleted, :m{index})")
        if update.history:
            values[":empty"] = {"L": []}
            values[":entries"] = history_to_attribute(update.history)
            sets.append("#history = list_append(if_not_exists(#history, :empty), :entries)")
        if update.closure is not None:
            values[":status"] = {"S": update.closure.status}
            values[":ttl"] = {"N": str(int(update.closure.ttl))}
            sets.extend(["#status = :status", "#ttl = :ttl"])
        expression = "SET " + ", ".join(sets)
        if update.members_added:
            values[":added"] = {"SS": sorted(update.members_added)}
            expression += " ADD #deleted :added"
        condition = " AND ".join(conditions)
        # DynamoDB rejects placeholders that no expression uses.
        names = {k: v for k, v in _NAMES.items() if k in expression or k in condition}
        with translated(f"update {self._describe(update.record_key)}"):
            self._client.update_item(
                TableName=self._table,
                Key=item_key(update.record_key),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def reopen(self, reopening: Reopening) -> None:
        """One UpdateItem, if the item exists: status, who and when; `TTL` and
        `DeletedMembers` removed. Every other attribute, History included, is kept."""
        with translated(f"re-open {self._describe(reopening.record_key)}"):
            self._client.update_item(
                TableName=self._table,
                Key=item_key(reopening.record_key),
                UpdateExpression=(
                    "SET #status = :status, #by = :by, #stamp = :stamp REMOVE #ttl, #deleted"
                ),
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={
                    k: _NAMES[k] for k in ("#pk", "#status", "#by", "#stamp", "#ttl", "#deleted")
                },
                ExpressionAttributeValues={
                    ":status": {"S": reopening.status},
                    ":by": {"S": reopening.last_modified_by},
                    ":stamp": {"S": reopening.update_timestamp},
                },
            )

    def add(self, record: ExceptionRecord) -> None:
        """Register (or replace) a record: a PutItem, for registration only."""
        self.put_item(record_to_item(record))

    def put_item(self, item: Mapping[str, AttributeValueTypeDef]) -> ExceptionRecord:
        """Write a whole item, extra attributes included, after checking it reads as a record.

        For imports, where items carry attributes ELM does not model.
        """
        record = record_from_item(item)
        with translated(f"put {self._describe(record.record_key)}"):
            self._client.put_item(TableName=self._table, Item=dict(item))
        return record

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        """Every open record, one Scan page at a time (the sweep only).

        With ``on_unreadable``, an item that does not read as a record is handed to it
        (its key and the reason) and skipped: one bad item does not end the pass.
        """
        yield from self._scan(
            page_size,
            on_unreadable,
            FilterExpression="attribute_not_exists(#status) OR #status <> :closed",
            ExpressionAttributeNames={"#status": "ExceptionStatus"},
            ExpressionAttributeValues={":closed": {"S": CLOSED_STATUS}},
        )

    def scan_open_segment(
        self,
        segment: int,
        total_segments: int,
        page_size: int = 100,
        on_unreadable: Callable[[UnreadableItem], None] | None = None,
    ) -> Iterator[ExceptionRecord]:
        """The open records of one segment of a parallel Scan (`Segment`, `TotalSegments`).

        DynamoDB: "Parallel scan", Amazon DynamoDB Developer Guide.
        """
        if not 0 <= segment < total_segments:
            raise ValueError(f"segment must be in 0..{total_segments - 1} (got {segment})")
        yield from self._scan(
            page_size,
            on_unreadable,
            Segment=segment,
            TotalSegments=total_segments,
            FilterExpression="attribute_not_exists(#status) OR #status <> :closed",
            ExpressionAttributeNames={"#status": "ExceptionStatus"},
            ExpressionAttributeValues={":closed": {"S": CLOSED_STATUS}},
        )

    def scan_all(self) -> Iterator[ExceptionRecord]:
        """Every record, one Scan page at a time (listing)."""
        yield from self._scan(100, None)

    def _scan(
        self,
        page_size: int,
        on_unreadable: Callable[[UnreadableItem], None] | None,
        **filters: Any,
    ) -> Iterator[ExceptionRecord]:
        start: dict[str, AttributeValueTypeDef] | None = None
        while True:
            request: dict[str, Any] = {"TableName": self._table, "Limit": page_size, **filters}
            if start:
                request["ExclusiveStartKey"] = start
            with translated(f"scan {self._table}"):
                page = self._client.scan(**request)
            for item in page.get("Items", []):
                try:
                    record = record_from_item(item)
                except MalformedItemError as error:
                    if on_unreadable is None:
                        raise
                    on_unreadable(UnreadableItem(error.item, str(error)))
                    continue
                yield record
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _describe(self, record_key: RecordKey) -> str:
        return f"{self._table} item ({record_key.partition_key}, {record_key.key})"
