"""What the moto-based figures need: the tables, loaded; Config's answers; a fair Query.

Two things moto (5.2) does not do as AWS does, and how the benchmarks deal with them:

- moto's Query sorts every item of the table to find one partition, so its cost grows with
  the table even though its result and ScannedCount do not. `partition_queries()` hands a
  base-table Query only its partition's items: the same items, order and ScannedCount
  (the counts are unchanged), at the cost DynamoDB charges, proportional to the partition.
- moto's Config never reports a deleted resource. `config_answers()` answers
  `ListDiscoveredResources` from the data set through a botocore `before-call` hook (the
  call is still made by the client, and counted, but never reaches moto).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore import handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table

from benchmarks.data import Dataset, DeletedResource
from domain.records import ExceptionRecord
from domain.rules import Rule

__all__ = [
    "config_answers",
    "create_seed_tables",
    "load_records",
    "load_rules",
    "partition_queries",
    "record_item",
    "rule_item",
]

_DELETED_AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
_PARAMS = "bench_config_params"


def rule_item(rule: Rule) -> dict[str, Any]:
    """A `Config-Master` item (SPEC §3) in DynamoDB's wire format."""
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
    """A `Config-ResourceExceptions` item (SPEC §3) as an adopter would have registered it."""
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


@contextmanager
def partition_queries() -> Iterator[None]:
    """Make moto's base-table Query visit only the queried partition (see the module doc)."""
    if getattr(Table.query, "partition_only", False):
        yield
        return
    original: Callable[..., Any] = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: sorted(partition, key=lambda item: item.range_key)  # type: ignore[method-assign]
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query.partition_only = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original  # type: ignore[method-assign]


class _ConfigAnswers:
    """`ListDiscoveredResources` answered from the data set's resources."""

    def __init__(self, deleted: Sequence[DeletedResource], existing: Sequence[DeletedResource]):
        self.states: dict[tuple[str, str], bool] = {}
        for r in existing:
            self.states[(r.resource_type, r.resource_id)] = False
        for r in deleted:
            self.states[(r.resource_type, r.resource_id)] = True

    def answer(self, params: dict[str, Any]) -> dict[str, Any]:
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
