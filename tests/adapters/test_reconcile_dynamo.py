"""The reconciliation sweep on DynamoDB (moto), AWS Config played by the inventory twin.

moto's Config cannot report deleted resources (EMULATOR-NOTES.md), so the in-memory
inventory stands in for it; the tables, their conditional writes and the Scan are moto's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest
from attrs import define, field

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from adapters.in_memory import FixedClock, InMemoryInventory, ManualTimer
from application.errors import TransientError
from application.handle_change import HandleComplianceChange, Policy
from application.ports import ResourceState
from application.reconcile import Reconcile, SweepLimits, SweepOutcome, SweepRequest
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
VOLUME = "AWS::EC2::Volume"
SG_RULE = Rule(7, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG}))
VOLUME_RULE = Rule(
    3, "ebs-plain", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, frozenset({VOLUME})
)
UNTYPED_RULE = Rule(9, "untyped", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)

LOST = RecordKey(ACCOUNT, 7, "sg-lost")
LIVE = RecordKey(ACCOUNT, 7, "sg-live")
COMPOSITE = RecordKey(ACCOUNT, 3, "vol-1,vol-2,vol-3")
UNTYPED = RecordKey(ACCOUNT, 9, "thing-1")


@define
class HookedInventory:
    """The inventory twin; throttles call N, or runs something just before a call answers."""

    inner: InMemoryInventory
    timer: ManualTimer
    seconds_per_call: float = 0.0
    throttle_on_call: int | None = None
    before_answer: Callable[[], object] | None = None
    calls: int = 0

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        self._meter()
        answer = self.inner.lookup(account_id, region, resource_type, resource_ids)
        self._before_answer()
        return answer

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        self._meter()
        answer = self.inner.lookup_by_name(account_id, region, resource_type, resource_name)
        self._before_answer()
        return answer

    def _meter(self) -> None:
        self.calls += 1
        self.timer.advance(self.seconds_per_call)
        if self.calls == self.throttle_on_call:
            raise TransientError("ThrottlingException: Rate exceeded")

    def _before_answer(self) -> None:
        hook, self.before_answer = self.before_answer, None
        if hook is not None:
            hook()


@define
class Estate:
    """The two tables on moto, and the inventory twin behind a hook."""

    dynamodb: DynamoDBClient
    store: DynamoExceptionStore
    catalog: DynamoRuleCatalog
    calls: Any
    config: InMemoryInventory = field(factory=InMemoryInventory)
    timer: ManualTimer = field(factory=ManualTimer)
    inventory: HookedInventory = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.inventory = HookedInventory(self.config, self.timer)

    def sweep(self, **limits: float) -> Reconcile:
        return Reconcile(
            self.catalog,
            self.store,
            self.inventory,
            FixedClock(),
            self.timer,
            limits=SweepLimits(**limits),  # type: ignore[arg-type]
        )

    def item(self, key: RecordKey) -> dict[str, Any]:
        response = self.dynamodb.get_item(
            TableName=self.store.table_name,
            Key={"AccountId_RuleId": {"S": key.partition_key}, "Exception": {"S": key.key}},
            ConsistentRead=True,
        )
        return dict(response["Item"])

    def record(self, key: RecordKey) -> ExceptionRecord:
        record = self.store.get(key)
        assert record is not None
        return record


@pytest.fixture
def estate(
    dynamodb: DynamoDBClient,
    dynamo_store: DynamoExceptionStore,
    dynamo_catalog: DynamoRuleCatalog,
    call_log: Any,
) -> Estate:
    for rule in (SG_RULE, VOLUME_RULE, UNTYPED_RULE):
        dynamo_catalog.add(rule)
    dynamo_store.add(ExceptionRecord(LOST, REGION))
    dynamo_store.add(ExceptionRecord(LIVE, REGION))
    dynamo_store.add(ExceptionRecord(COMPOSITE, REGION, deleted_members=frozenset({"vol-1"})))
    dynamo_store.add(ExceptionRecord(UNTYPED, REGION))
    estate = Estate(dynamodb, dynamo_store, dynamo_catalog, call_log)
    estate.config.put(ACCOUNT, REGION, SG, "sg-lost", deleted=True)
    estate.config.put(ACCOUNT, REGION, SG, "sg-live")
    for volume in ("vol-1", "vol-2", "vol-3"):
        estate.config.put(ACCOUNT, REGION, VOLUME, volume, deleted=True)
    call_log.clear()
    return estate


def test_lost_deletions_are_closed_in_the_table_and_the_rest_left_alone(estate: Estate) -> None:
    live_before = estate.item(LIVE)
    untyped_before = estate.item(UNTYPED)

    report = estate.sweep().execute(SweepRequest(run_id="reconcile-1"))

    lost = estate.item(LOST)
    assert lost["ExceptionStatus"] == {"S": CLOSED_STATUS}
    assert lost["ResourceType"] == {"S": SG}
    assert "TTL" in lost
    assert [(h["M"]["EventId"]["S"], h["M"]["Action"]["S"]) for h in lost["History"]["L"]] == [
        ("reconcile-1", "reconciled")
    ]
    composite = estate.record(COMPOSITE)
    assert composite.is_closed
    assert composite.deleted_members == {"vol-1", "vol-2", "vol-3"}
    assert estate.item(LIVE) == live_before
    assert estate.item(UNTYPED) == untyped_before
    assert report.counts == {
        SweepOutcome.CLOSED: 2,
        SweepOutcome.NOT_CONFIRMED: 1,
        SweepOutcome.UNKNOWN_TYPE: 1,
    }
    assert [n.record_key for n in report.unresolved] == [UNTYPED]


def test_a_sweep_costs_one_scan_pass_a_batch_read_per_chunk_and_one_update_per_change(
    estate: Estate,
) -> None:
    table = estate.store.table_name

    estate.sweep(page_size=2).execute()

    # Four items two a page: one pass is two pages (moto), or three where the last full page
    # still carries a LastEvaluatedKey and an empty page ends the pass (DynamoDB may).
    assert estate.calls.count("Scan", table) in (2, 3)
    assert estate.calls.count("UpdateItem", table) == 2
    assert estate.calls.count("Query", table) == 0
    # Each record asked about is read again, consistently, by its chunk before it is
    # settled (a chunk holds keys only): the two deleted and the live one, not the untyped,
    # in one BatchGetItem a chunk (the security groups' two, the volume's one), never by
    # GetItem.
    assert estate.calls.count("BatchGetItem", table) == 2
    assert estate.calls.count("GetItem", table) == 0


def test_closed_records_are_not_scanned_into_the_sweep(estate: Estate) -> None:
    estate.sweep().execute()

    second = estate.sweep().execute()

    assert second.records_scanned == 2  # the live group and the untyped record
    assert estate.calls.count("UpdateItem", estate.store.table_name) == 2


def test_throttling_mid_composite_leaves_the_item_unwritten(estate: Estate) -> None:
    # "vol-x…" sorts after "vol-1,…": within a partition DynamoDB returns items by sort key.
    members = [f"vol-x{n:02d}" for n in range(30)]
    big = RecordKey(ACCOUNT, 3, ",".join(members))
    estate.store.add(ExceptionRecord(big, REGION))
    for member in members:
        estate.config.put(ACCOUNT, REGION, VOLUME, member, deleted=True)
    before = estate.item(big)
    # Call 1 is the SecurityGroup group's; in the Volume group the old composite's two open
    # members fill call 2, and the big one's 30 take calls 3 and 4: throttle call 4, when
    # 20 of its members are already confirmed.
    estate.inventory.throttle_on_call = 4

    report = estate.sweep().execute()

    assert estate.item(big) == before
    assert report.count(SweepOutcome.FAILED) == 1
    assert estate.record(COMPOSITE).is_closed
    assert estate.record(LOST).is_closed


def test_a_dry_run_writes_nothing_to_the_table(estate: Estate) -> None:
    report = estate.sweep().execute(SweepRequest(dry_run=True))

    assert report.count(SweepOutcome.CLOSED) == 2
    assert estate.calls.count("UpdateItem") == 0
    assert not estate.record(LOST).is_closed


def test_a_record_an_event_closes_meanwhile_loses_the_race_cleanly(estate: Estate) -> None:
    event_path = HandleComplianceChange(estate.catalog, estate.store, estate.config, FixedClock())
    event = deletion_event(
        account_id=ACCOUNT,
        region=REGION,
        rule_name=SG_RULE.name,
        resource_type=SG,
        resource_id="sg-lost",
        event_id="event-1",
    )
    estate.inventory.before_answer = lambda: event_path.execute(event)

    report = estate.sweep().execute()

    assert report.count(SweepOutcome.DUPLICATE) == 1
    assert [h.event_id for h in estate.record(LOST).history] == ["event-1"]


def test_a_budget_stopped_sweep_resumes_and_finishes_on_dynamodb(estate: Estate) -> None:
    estate.inventory.seconds_per_call = 10.0

    first = estate.sweep(budget_seconds=5.0).execute()

    assert first.stopped is not None
    assert first.stopped.resume_from is not None
    assert not estate.record(COMPOSITE).is_closed

    second = estate.sweep(budget_seconds=60.0).execute(
        SweepRequest(resume_from=first.stopped.resume_from)
    )

    assert second.complete
    assert estate.record(LOST).is_closed
    assert estate.record(COMPOSITE).is_closed


def test_an_unreadable_item_is_listed_and_the_sweep_goes_on(estate: Estate) -> None:
    # One malformed item (a RuleId that is not a number) must not end the whole sweep.
    estate.dynamodb.put_item(
        TableName=estate.store.table_name,
        Item={
            "AccountId_RuleId": {"S": f"{ACCOUNT}_7"},
            "Exception": {"S": "sg-broken"},
            "RuleId": {"S": "seven"},
            "Region": {"S": REGION},
            "ExceptionStatus": {"S": "ACTIVE"},
        },
    )

    report = estate.sweep(page_size=1).execute()

    assert report.scan_failure is None
    assert report.complete
    assert [u.item for u in report.unreadable] == [
        f"(AccountId_RuleId={ACCOUNT}_7, Exception=sg-broken)"
    ]
    assert "RuleId" in report.unreadable[0].reason
    assert estate.record(LOST).is_closed
    assert report.records_scanned == 4


def test_a_sweep_on_dynamodb_leaves_another_environments_rules_alone(estate: Estate) -> None:
    # DEV and PROD share the tables; the DEV sweep (ELM_RULE_PREFIX=DEV-) closes only DEV's.
    dev_rule = Rule(
        30, "DEV-sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
    )
    estate.catalog.add(dev_rule)
    dev = RecordKey(ACCOUNT, 30, "sg-lost")
    estate.store.add(ExceptionRecord(dev, REGION))
    sweep = Reconcile(
        estate.catalog,
        estate.store,
        estate.inventory,
        FixedClock(),
        estate.timer,
        Policy(rule_prefix="DEV-"),
    )

    report = sweep.execute()

    assert estate.record(dev).is_closed
    assert not estate.record(LOST).is_closed  # the same deleted group, under a PROD rule
    assert report.count(SweepOutcome.OUT_OF_SCOPE) == 4


def test_a_reopened_record_still_carrying_elms_ttl_is_listed(estate: Estate) -> None:
    # DynamoDB's TTL deletes the item whatever its status; the sweep names it so that
    # someone removes the TTL (`elm exceptions reopen`) before it passes.
    estate.dynamodb.update_item(
        TableName=estate.store.table_name,
        Key={"AccountId_RuleId": {"S": LIVE.partition_key}, "Exception": {"S": LIVE.key}},
        UpdateExpression="SET #ttl = :ttl",
        ExpressionAttributeNames={"#ttl": "TTL"},
        ExpressionAttributeValues={":ttl": {"N": "1900000000"}},
    )

    report = estate.sweep().execute()

    assert [(e.record_key, e.region, e.ttl) for e in report.expiring] == [
        (LIVE, REGION, 1_900_000_000)
    ]
    assert estate.item(LIVE)["TTL"] == {"N": "1900000000"}
