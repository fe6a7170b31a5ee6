"""What the moto-based figures need: the tables, loaded; Config's answers; a fair Query.

Two things moto (5.2) does not do as AWS does, and how the benchmarks deal with them:

- moto's Query sorts every item of the table to find one partition, and each Scan page
  sorts the whole table again and walks it from the start to its start key, so a Query
  costs as much as a Scan and a Scan costs pages x table. `indexed_tables()` hands moto's
  own Query and Scan code only the items it would keep (the partition; the items from the
  start key on), so results, ScannedCount and LastEvaluatedKey are unchanged and the time
  is closer to DynamoDB's: a Query proportional to its partition, a Scan to the table.
- moto's Config never reports a deleted resource. `config_answers()` answers
  `ListDiscoveredResources` from the data set through a botocore `before-call` hook (the
  call is still made by the client, and counted, but never reaches moto).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore import handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from benchmarks.data import Dataset, DeletedResource
from domain.records import ExceptionRecord
from domain.rules import Rule

__all__ = [
    "config_answers",
    "create_seed_tables",
    "indexed_tables",
    "load_records",
    "load_rules",
    "record_item",
    "rule_item",
]

_DELETED_AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
_PARAMS = "bench_config_params"


def rule_item(rule: Rule) -> dict[str, Any]:
    """A `Config-Master` item (docs/behaviour.md) in DynamoDB's wire format."""
    item: dict[str, Any] = {
        "RuleId": {"N": str(rule.rule_id)},
        "RuleName": {"S": rule.name},
        "ExceptionFormat": {"S": rule.exception_format.value},
        "ExceptionType": {"S": rule.exception_type.value},
    }
    if rule.resource_types:
        item["ResourceTypes"] = {"SS": sorted(rule.resource_types)}
    return item


def record_item(record: ExceptionRecord) -> dict[str, Any]:
    """A `Config-ResourceExceptions` item (docs/behaviour.md), as an adopter registers it."""
    return {
        "AccountId_RuleId": {"S": record.record_key.partition_key},
        "Exception": {"S": record.key},
        "RuleId": {"N": str(record.rule_id)},
        "Region": {"S": record.region},
        "ExceptionStatus": {"S": record.status},
        "LastModifiedBy": {"S": "bench-loader"},
        "UpdateTimeStamp": {"S": "01/02/2026 09:00:00"},
    }


def create_seed_tables(client: Any, exceptions_table: str, rules_table: str) -> None:
    """The two tables with the seed system's keys (and nothing else: no index)."""
    client.create_table(
        TableName=rules_table,
        KeySchema=[{"AttributeName": "RuleId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "RuleId", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=exceptions_table,
        KeySchema=[
            {"AttributeName": "AccountId_RuleId", "KeyType": "HASH"},
            {"AttributeName": "Exception", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "AccountId_RuleId", "AttributeType": "S"},
            {"AttributeName": "Exception", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _batches(items: Sequence[dict[str, Any]], size: int = 25) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(client: Any, table: str, items: Sequence[dict[str, Any]]) -> None:
    for batch in _batches(items):
        request = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def load_rules(client: Any, table: str, dataset: Dataset) -> None:
    """Write the data set's rules."""
    _write(client, table, [rule_item(r) for r in dataset.rules])


def load_records(client: Any, table: str, dataset: Dataset) -> None:
    """Put the data set's exception records straight into moto's table.

    Set-up, not measured: the items are the ones BatchWriteItem would write, without the
    HTTP round trip per 25 items that makes loading 100,000 records take minutes.
    """
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
    for record in dataset.records:
        backend.put_item(table, record_item(record))


class _SortedItems:
    """A table's items in moto's scan order, kept until an item is put or deleted."""

    def __init__(self) -> None:
        self.version = -1
        self.items: list[Any] = []
        self.keys: list[tuple[Any, Any]] = []


_VERSION = "_bench_version"
_SORTED = "_bench_sorted"


def _sorted_items(table: Table) -> _SortedItems:
    cache: _SortedItems = table.__dict__.setdefault(_SORTED, _SortedItems())
    version = table.__dict__.get(_VERSION, 0)
    if cache.version != version:
        cache.items = sorted(
            (item for partition in table.items.values() for item in partition.values()),
            key=lambda item: (item.hash_key, item.range_key),
        )
        cache.keys = [(item.hash_key, item.range_key) for item in cache.items]
        cache.version = version
    return cache


@contextmanager
def _items_view(table: Table, items: list[Any]) -> Iterator[None]:
    table.all_items = lambda: items  # type: ignore[method-assign]
    try:
        yield
    finally:
        del table.all_items


@contextmanager
def indexed_tables() -> Iterator[None]:
    """Make moto's base-table Query and Scan cost what DynamoDB's do (see the module doc).

    A Query is handed only its partition's items; a Scan page is handed the items from its
    start key on, from a sorted list kept until the next put or delete. moto then runs its
    own code on them: the items, ScannedCount and LastEvaluatedKey are the ones it returns
    without this (tests/benchmarks checks that).
    """
    if getattr(Table.query, "indexed", False):
        yield
        return
    query: Callable[..., Any] = Table.query
    scan: Callable[..., Any] = Table.scan
    put_item: Callable[..., Any] = Table.put_item
    delete_item: Callable[..., Any] = Table.delete_item

    def indexed_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return query(self, hash_key, *args, **kwargs)
        partition = sorted(self.items.get(hash_key, {}).values(), key=lambda i: i.range_key)
        with _items_view(self, partition):
            return query(self, hash_key, *args, **kwargs)

    def indexed_scan(
        self: Table, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any
    ) -> Any:
        index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
        if index_name is not None or not self.range_key_attr:
            return scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
        cache = _sorted_items(self)
        start = 0
        if exclusive_start_key:
            key = (
                DynamoType(exclusive_start_key[self.hash_key_attr]),
                DynamoType(exclusive_start_key[self.range_key_attr]),
            )
            start = bisect.bisect_left(cache.keys, key)
        with _items_view(self, cache.items[start:]):
            return scan(self, filters, limit, exclusive_start_key, *args, **kwargs)

    def bump(self: Table) -> None:
        self.__dict__[_VERSION] = self.__dict__.get(_VERSION, 0) + 1

    def counted_put(self: Table, *args: Any, **kwargs: Any) -> Any:
        bump(self)
        return put_item(self, *args, **kwargs)

    def counted_delete(self: Table, *args: Any, **kwargs: Any) -> Any:
        bump(self)
        return delete_item(self, *args, **kwargs)

    indexed_query.indexed = True  # type: ignore[attr-defined]
    patches = {
        "query": indexed_query,
        "scan": indexed_scan,
        "put_item": counted_put,
        "delete_item": counted_delete,
    }
    originals = {"query": query, "scan": scan, "put_item": put_item, "delete_item": delete_item}
    for name, patch in patches.items():
        setattr(Table, name, patch)
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(Table, name, original)


class _ConfigAnswers:
    """`ListDiscoveredResources` answered from the data set's resources."""

    def __init__(self, deleted: Sequence[DeletedResource], existing: Sequence[DeletedResource]):
        self.states: dict[tuple[str, str], bool] = {}
        for r in existing:
            self.states[(r.resource_type, r.resource_id)] = False
        for r in deleted:
            self.states[(r.resource_type, r.resource_id)] = True

    def answer(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parsed `ListDiscoveredResources` response to ``params``."""
        resource_type = params["resourceType"]
        found = []
        for resource_id in params.get("resourceIds", []):
            deleted = self.states.get((resource_type, resource_id))
            if deleted is None:
                continue
            identifier: dict[str, Any] = {
                "resourceType": resource_type,
                "resourceId": resource_id,
                "resourceName": resource_id,
            }
            if deleted and params.get("includeDeletedResources"):
                identifier["resourceDeletionTime"] = _DELETED_AT
            if deleted and not params.get("includeDeletedResources"):
                continue
            found.append(identifier)
        return {"resourceIdentifiers": found}


_answers: list[_ConfigAnswers] = []
_hooked = False


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def _respond(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    if not _answers:
        return None
    parsed = _answers[-1].answer(context.get(_PARAMS, {}))
    parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "RetryAttempts": 0}
    return AWSResponse("https://config.bench.local/", 200, HTTPHeaders(), None), parsed


@contextmanager
def config_answers(dataset: Dataset) -> Iterator[None]:
    """AWS Config's answers for ``dataset``, to every client made after the first use."""
    global _hooked
    if not _hooked:
        operation = "config-service.ListDiscoveredResources"
        handlers.BUILTIN_HANDLERS.append((f"before-parameter-build.{operation}", _remember_params))
        handlers.BUILTIN_HANDLERS.append((f"before-call.{operation}", _respond))
        _hooked = True
    _answers.append(_ConfigAnswers(dataset.deleted, dataset.existing))
    try:
        yield
    finally:
        _answers.pop()
