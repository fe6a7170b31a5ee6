"""A deterministic data set: rules, exception records, deletion events and Config's view.

The same seed always gives the same tables and the same events, so every run (and both
designs within a run) measures the same work. Records are spread at random (seeded) over
200 accounts x 50 rules; the rules cycle through the three exception kinds.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from attrs import frozen

from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionKind, ExceptionType, Rule
from entrypoints.local.sample_events import configuration_item_event, deletion_event

__all__ = [
    "ACCOUNTS",
    "COMPOSITE_MEMBERS",
    "KINDS",
    "REGIONS",
    "RESOURCE_TYPES",
    "RULES",
    "Dataset",
    "DeletedResource",
    "account_ids",
    "busiest_account",
    "generate",
    "generate_partition",
    "instance_arn",
    "item_signal_events",
    "make_rules",
]

ACCOUNTS = 200
RULES = 50
REGIONS = ("eu-west-1", "us-east-1")
KINDS = (ExceptionKind.SIMPLE_ID, ExceptionKind.SIMPLE_ARN, ExceptionKind.COMPOSITE)
RESOURCE_TYPES = {
    ExceptionKind.SIMPLE_ID: "AWS::EC2::SecurityGroup",
    ExceptionKind.SIMPLE_ARN: "AWS::EC2::Instance",
    ExceptionKind.COMPOSITE: "AWS::EC2::Volume",
}
COMPOSITE_MEMBERS = 3
_SEED = 20260304


@frozen
class DeletedResource:
    """A resource an event reports deleted, as AWS Config knows it."""

    account_id: str
    region: str
    resource_type: str
    resource_id: str


@frozen
class Dataset:
    """The tables' contents and the deletion events to run against them."""

    rules: tuple[Rule, ...]
    records: tuple[ExceptionRecord, ...]
    events: dict[ExceptionKind, tuple[dict[str, Any], ...]]
    deleted: tuple[DeletedResource, ...]
    existing: tuple[DeletedResource, ...]

    @property
    def size(self) -> int:
        """The number of exception records."""
        return len(self.records)

    def all_events(self) -> list[dict[str, Any]]:
        """Every event, the kinds interleaved (as a real queue would mix them)."""
        per_kind = [self.events[k] for k in KINDS]
        mixed = itertools.zip_longest(*per_kind)
        return [e for group in mixed for e in group if e is not None]


def account_ids(count: int = ACCOUNTS) -> list[str]:
    """Twelve-digit account ids, always the same ones."""
    return [f"{210000000000 + 7919 * n:012d}" for n in range(count)]


def make_rules(count: int = RULES) -> tuple[Rule, ...]:
    """Rules 1..count; rule n has kind KINDS[(n - 1) % 3]."""
    rules = []
    for rule_id in range(1, count + 1):
        kind = KINDS[(rule_id - 1) % len(KINDS)]
        rules.append(
            Rule(
                rule_id=rule_id,
                name=f"bench-{kind.value}-{rule_id:02d}",
                exception_format=(
                    ExceptionFormat.RESOURCE_ARN
                    if kind is ExceptionKind.SIMPLE_ARN
                    else ExceptionFormat.RESOURCE_ID
                ),
                exception_type=(
                    ExceptionType.COMPOSITE
                    if kind is ExceptionKind.COMPOSITE
                    else ExceptionType.SIMPLE
                ),
                resource_types=frozenset({RESOURCE_TYPES[kind]}),
            )
        )
    return tuple(rules)


def _resource_id(kind: ExceptionKind, index: int, member: int = 0) -> str:
    match kind:
        case ExceptionKind.SIMPLE_ID:
            return f"sg-{index:017x}"
        case ExceptionKind.SIMPLE_ARN:
            return f"i-{index:017x}"
        case ExceptionKind.COMPOSITE:
            return f"vol-{index:015x}{member:02x}"


def _key(kind: ExceptionKind, index: int, account_id: str, region: str) -> str:
    match kind:
        case ExceptionKind.SIMPLE_ID:
            return _resource_id(kind, index)
        case ExceptionKind.SIMPLE_ARN:
            return instance_arn(account_id, region, _resource_id(kind, index))
        case ExceptionKind.COMPOSITE:
            return ",".join(_resource_id(kind, index, m) for m in range(COMPOSITE_MEMBERS))


def instance_arn(account_id: str, region: str, instance_id: str) -> str:
    """The ARN AWS Config records for an EC2 instance: the ARN kind's exception key."""
    return f"arn:aws:ec2:{region}:{account_id}:instance/{instance_id}"


def item_signal_events(dataset: Dataset) -> tuple[dict[str, Any], ...]:
    """The ARN kind's deletions as AWS Config's configuration item records of them.

    The same resources as ``dataset.events[SIMPLE_ARN]``, each carrying the ARN Config
    records for it: the exact key of its exception.
    """
    events = []
    for event in dataset.events[ExceptionKind.SIMPLE_ARN]:
        detail = event["detail"]
        account, region, resource_id = (
            detail["awsAccountId"],
            detail["awsRegion"],
            detail["resourceId"],
        )
        events.append(
            configuration_item_event(
                account_id=account,
                region=region,
                resource_type=detail["resourceType"],
                resource_id=resource_id,
                arn=instance_arn(account, region, resource_id),
                event_id=f"{event['id']}-item",
            )
        )
    return tuple(events)


def _records(size: int, rules: tuple[Rule, ...], rng: random.Random) -> Iterator[ExceptionRecord]:
    accounts = account_ids()
    for index in range(size):
        account_id = rng.choice(accounts)
        rule = rng.choice(rules)
        region = rng.choice(REGIONS)
        yield ExceptionRecord(
            record_key=RecordKey(
                account_id, rule.rule_id, _key(rule.kind, index, account_id, region)
            ),
            region=region,
            status="ACTIVE",
        )


def busiest_account(size: int, *, seed: int = _SEED) -> str:
    """The account holding the most records of ``generate(size)`` (the lowest id on a tie)."""
    counts: dict[str, int] = {}
    for record in _records(size, make_rules(), random.Random(f"{seed}-{size}")):
        counts[record.account_id] = counts.get(record.account_id, 0) + 1
    return min(counts, key=lambda a: (-counts[a], a))


def generate(
    size: int, events_per_kind: int = 200, *, account: str | None = None, seed: int = _SEED
) -> Dataset:
    """``size`` open records and ``events_per_kind`` deletion events of each kind.

    With ``account``, every event comes from that account (as many as it has records of
    each kind, up to ``events_per_kind``).

    Every event names a resource that has an exception (so it runs the whole flow: rule,
    candidates, Config, close). Composite events delete the first member; Config reports
    the other members still existing, so the record gains a member and stays open.
    """
    rng = random.Random(f"{seed}-{size}")
    rules = make_rules()
    records = tuple(_records(size, rules, rng))
    return _with_events(rules, records, events_per_kind, rng, f"bench-{size}", account)


def generate_partition(per_partition: int, events_per_kind: int, *, seed: int = _SEED) -> Dataset:
    """One account and region, one rule of each kind, ``per_partition`` records under each.

    Every record of a kind shares one `AccountId_RuleId`: the partition's size is the
    figure's axis, with nothing else in the table.
    """
    rng = random.Random(f"{seed}-partition-{per_partition}")
    rules = make_rules(len(KINDS))
    account, region = account_ids(1)[0], REGIONS[0]
    records = tuple(
        ExceptionRecord(
            record_key=RecordKey(account, rule.rule_id, _key(rule.kind, index, account, region)),
            region=region,
            status="ACTIVE",
        )
        for n, rule in enumerate(rules)
        for index in range(n * per_partition, (n + 1) * per_partition)
    )
    return _with_events(
        rules, records, events_per_kind, rng, f"bench-partition-{per_partition}", None
    )


def _with_events(
    rules: tuple[Rule, ...],
    records: tuple[ExceptionRecord, ...],
    events_per_kind: int,
    rng: random.Random,
    prefix: str,
    account: str | None,
) -> Dataset:
    by_id = {r.rule_id: r for r in rules}
    events: dict[ExceptionKind, tuple[dict[str, Any], ...]] = {}
    deleted: list[DeletedResource] = []
    existing: list[DeletedResource] = []
    for kind in KINDS:
        indexes = [
            i
            for i, r in enumerate(records)
            if by_id[r.rule_id].kind is kind and account in (None, r.account_id)
        ]
        chosen = sorted(rng.sample(indexes, min(events_per_kind, len(indexes))))
        kind_events = []
        for n, index in enumerate(chosen):
            record = records[index]
            rule = by_id[record.rule_id]
            resource_type = RESOURCE_TYPES[kind]
            resource_id = _resource_id(kind, index)
            deleted.append(
                DeletedResource(record.account_id, record.region, resource_type, resource_id)
            )
            if kind is ExceptionKind.COMPOSITE:
                existing.extend(
                    DeletedResource(
                        record.account_id,
                        record.region,
                        resource_type,
                        _resource_id(kind, index, m),
                    )
                    for m in range(1, COMPOSITE_MEMBERS)
                )
            kind_events.append(
                deletion_event(
                    account_id=record.account_id,
                    region=record.region,
                    rule_name=rule.name,
                    resource_type=resource_type,
                    resource_id=resource_id,
                    event_id=f"{prefix}-{kind.value}-{n:04d}",
                )
            )
        events[kind] = tuple(kind_events)
    return Dataset(rules, records, events, tuple(deleted), tuple(existing))
