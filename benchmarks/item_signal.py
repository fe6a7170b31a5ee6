"""Reads and calls per event for the second signal: AWS Config's record of a deletion.

A configuration item change names no rule: the rules it concerns are those whose
`ResourceTypes` list the resource's type, found in the cached catalog's index. Each such
rule's partition is read (GetItem by ID and name for a simple Resource-ID rule, GetItem by the
recorded ARN for a simple Resource-ARN rule whose record is open, a Query otherwise); no other
rule's partition, and never a Scan. The figure runs `HandleComplianceChange` on ELM's DynamoDB
adapters on moto (in-process), counting DynamoDB calls and items read through botocore's own
hooks, the partitions touched through the store, and AWS Config calls on the inventory twin.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
from attrs import define

from adapters.aws.dynamo_rules import DynamoRuleCatalog
from adapters.aws.dynamo_store import DynamoExceptionStore
from adapters.aws.tables import create_tables
from adapters.in_memory import FixedClock, InMemoryInventory
from application.handle_change import HandleComplianceChange
from benchmarks.aws import counted_moto
from benchmarks.counting import counting
from benchmarks.report import Met, Row, Section
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import configuration_item_event

__all__ = ["item_signal"]

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
OTHER_TYPES = ("AWS::EC2::Volume", "AWS::S3::Bucket", "AWS::IAM::Role", "AWS::RDS::DBInstance")
SHAPES = (
    (ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE),
    (ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE),
    (ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE),
)
EXCEPTIONS = "Bench-Item-ResourceExceptions"
RULES = "Bench-Item-Master"


class _Partitions(DynamoExceptionStore):
    """ELM's DynamoDB store, noting which `AccountId_RuleId` partitions are read."""

    def __init__(self, client: Any, table_name: str) -> None:
        super().__init__(client, table_name)
        self.read: set[tuple[str, int]] = set()

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        self.read.add((account_id, rule_id))
        return super().list_for(account_id, rule_id)

    def get(self, record_key: RecordKey) -> ExceptionRecord | None:
        self.read.add((record_key.account_id, record_key.rule_id))
        return super().get(record_key)

    def get_many(self, record_keys: Sequence[RecordKey]) -> dict[RecordKey, ExceptionRecord]:
        self.read.update((k.account_id, k.rule_id) for k in record_keys)
        return super().get_many(record_keys)


def _sg(rule: int, n: int) -> str:
    return f"sg-{rule:03d}{n:08x}"


def _arn(resource_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{resource_id}"


def _rules(total: int, covering: int) -> list[Rule]:
    """``covering`` rules over security groups (the three kinds in turn), the rest elsewhere."""
    rules = []
    for index in range(total):
        exception_format, exception_type = SHAPES[index % len(SHAPES)]
        types = frozenset({SG}) if index < covering else frozenset({OTHER_TYPES[index % 4]})
        rules.append(Rule(index + 1, f"rule-{index + 1}", exception_format, exception_type, types))
    return rules


def _key(rule: Rule, n: int) -> str:
    resource = _sg(rule.rule_id, n)
    if rule.exception_type is ExceptionType.COMPOSITE:
        return ",".join(_sg(rule.rule_id, n * 3 + m) for m in range(3))
    if rule.exception_format is ExceptionFormat.RESOURCE_ARN:
        return _arn(resource)
    return resource


@define
class _Run:
    covering: int
    events: int
    dynamodb_calls: float
    items_read: float
    partitions_read: float
    max_partitions: int
    config_calls: float
    operations: dict[str, int]


def _measure(total: int, covering: int, records: int, events: int) -> _Run:
    client = boto3.session.Session(region_name="us-east-1").client("dynamodb")
    create_tables(client, EXCEPTIONS, RULES)
    catalog = DynamoRuleCatalog(client, RULES)
    store = _Partitions(client, EXCEPTIONS)
    rules = _rules(total, covering)
    for rule in rules:
        catalog.add(rule)
        for n in range(records):
            store.add(ExceptionRecord(RecordKey(ACCOUNT, rule.rule_id, _key(rule, n)), REGION))
    inventory = InMemoryInventory()
    # Each event deletes a security group that an exception of the first rule names.
    deleted = [_sg(1, n) for n in range(events)]
    for resource_id in deleted:
        inventory.put(ACCOUNT, REGION, SG, resource_id, deleted=True)
    catalog.list_rules()  # the cache is warm, as in a running Lambda
    dynamodb_calls = items = partitions = config_calls = 0
    most = 0
    operations: dict[str, int] = {}
    for number, resource_id in enumerate(deleted):
        store.read.clear()
        handle = HandleComplianceChange(catalog, store, inventory, FixedClock())
        body = json.dumps(
            configuration_item_event(
                account_id=ACCOUNT,
                region=REGION,
                resource_type=SG,
                resource_id=resource_id,
                resource_name=f"web-{number}",
                arn=_arn(resource_id),
                event_id=f"bench-item-{covering}-{number}",
            )
        )
        before = len(inventory.calls)
        with counting() as counter:
            handle.execute(body)
        dynamodb_calls += counter.service_calls("dynamodb")
        items += counter.total_items_read
        for operation, n in counter.operations("dynamodb").items():
            operations[operation] = operations.get(operation, 0) + n
        partitions += len(store.read)
        most = max(most, len(store.read))
        config_calls += len(inventory.calls) - before
    return _Run(
        covering,
        events,
        dynamodb_calls / events,
        items / events,
        partitions / events,
        most,
        config_calls / events,
        operations,
    )


def item_signal(total_rules: int, covering: Sequence[int], records: int, events: int) -> Section:
    """The figure: per event, partitions read (≤ rules covering the type), calls, items."""
    title = "Configuration item deletions: reads and calls per event"
    method = (
        f"{total_rules} rules in Config-Master, {records} open exceptions under each rule's "
        f"partition in one account; of the rules, N list AWS::EC2::SecurityGroup in "
        f"ResourceTypes (the three exception kinds in turn: ID, ARN, composite). {events} "
        "configuration item deletions of security groups, each handled by the use case on "
        "ELM's DynamoDB adapters (moto, in-process; the rules cache warm). Partitions are "
        "the AccountId_RuleId values read; AWS Config calls are ListDiscoveredResources."
    )
    rows = []
    notes = []
    for count in covering:
        with counted_moto():
            run = _measure(total_rules, count, records, events)
        ok = run.max_partitions <= count and "Scan" not in run.operations
        rows.append(
            Row(
                f"{count} rule(s) cover the type: partitions read per event",
                f"{run.partitions_read:.1f} (max {run.max_partitions})",
                target=f"≤ {count}, no Scan",
                met=Met.of(ok),
            )
        )
        rows.append(
            Row(
                f"{count} rule(s) cover the type: DynamoDB calls / items read per event",
                f"{run.dynamodb_calls:.1f} / {run.items_read:.1f} "
                f"({', '.join(f'{op} {n}' for op, n in sorted(run.operations.items()))})",
            )
        )
        rows.append(
            Row(
                f"{count} rule(s) cover the type: AWS Config calls per event",
                f"{run.config_calls:.1f}",
                target="1 (one answer serves every rule)",
                met=Met.of(run.config_calls <= 1),
            )
        )
        if not ok:
            notes.append(f"{count} covering rule(s): {run.operations}")
    return Section(title, method, tuple(rows), tuple(notes))
