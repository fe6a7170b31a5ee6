"""An estate on the in-memory twins: rules, exceptions and a Config inventory to run events on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import define, evolve, field

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from application.handle_change import ChangeResult, HandleComplianceChange, Policy
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
OTHER_REGION = "us-east-1"
SG = "AWS::EC2::SecurityGroup"
VOLUME = "AWS::EC2::Volume"
BUCKET = "AWS::S3::Bucket"
DB = "AWS::RDS::DBInstance"

SIMPLE_ID = Rule(1, "sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
SIMPLE_ARN = Rule(2, "s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE)
COMPOSITE_ID = Rule(3, "ebs-encrypted", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE)
COMPOSITE_ARN = Rule(4, "rds-multi-az", ExceptionFormat.RESOURCE_ARN, ExceptionType.COMPOSITE)
ALL_RULES = (SIMPLE_ID, SIMPLE_ARN, COMPOSITE_ID, COMPOSITE_ARN)

__all__ = [
    "ACCOUNT",
    "ALL_RULES",
    "BUCKET",
    "COMPOSITE_ARN",
    "COMPOSITE_ID",
    "DB",
    "OTHER_ACCOUNT",
    "OTHER_REGION",
    "REGION",
    "SG",
    "SIMPLE_ARN",
    "SIMPLE_ID",
    "VOLUME",
    "Estate",
    "event",
    "new_estate",
]


def event(
    rule: Rule,
    resource_type: str,
    resource_id: str,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A deletion event for one resource under one rule."""
    return deletion_event(
        account_id=account,
        region=region,
        rule_name=rule.name,
        resource_type=resource_type,
        resource_id=resource_id,
        event_id=event_id,
    )


@define
class Estate:
    """The twins of every port, and helpers that state an estate in a line each."""

    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    inventory: InMemoryInventory = field(factory=InMemoryInventory)
    clock: FixedClock = field(factory=FixedClock)
    policy: Policy = field(factory=Policy)

    def exception(
        self,
        rule: Rule,
        key: str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        **fields: Any,
    ) -> RecordKey:
        """Register an open exception (or one with ``fields`` such as ``status``)."""
        record_key = RecordKey(account, rule.rule_id, key)
        self.store.add(ExceptionRecord(record_key, region, **fields))
        return record_key

    def deleted(
        self,
        resource_type: str,
        resource_id: str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        name: str | None = None,
    ) -> None:
        """Config reports the resource as deleted."""
        self.inventory.put(account, region, resource_type, resource_id, name=name, deleted=True)

    def existing(
        self,
        resource_type: str,
        resource_id: str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        name: str | None = None,
    ) -> None:
        """Config reports the resource as still there."""
        self.inventory.put(account, region, resource_type, resource_id, name=name)

    def handler(self, **policy: Any) -> HandleComplianceChange:
        """The use case on these twins, with ``policy`` overriding the estate's policy."""
        return HandleComplianceChange(
            self.rules, self.store, self.inventory, self.clock, evolve(self.policy, **policy)
        )

    def run(self, body: str | Mapping[str, Any], **policy: Any) -> ChangeResult:
        """Carry one event through the use case."""
        return self.handler(**policy).execute(body)

    def record(self, record_key: RecordKey) -> ExceptionRecord:
        """The stored record, which must exist."""
        record = self.store.get(record_key)
        assert record is not None, f"no record {record_key}"
        return record

    def snapshot(self) -> list[ExceptionRecord]:
        """Every stored record, to compare before and after."""
        return list(self.store.scan_all())


def new_estate() -> Estate:
    """An estate that knows the four rules and holds nothing else yet."""
    built = Estate()
    for rule in ALL_RULES:
        built.rules.add(rule)
    return built
