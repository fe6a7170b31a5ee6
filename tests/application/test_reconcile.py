"""The reconciliation sweep (docs/sweep.md) on the in-memory twins."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest
from attrs import define, evolve, field

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from adapters.in_memory.inventory import InventoryNameCall
from application.errors import RecordFormatError, TransientError
from application.handle_change import HandleComplianceChange, Policy
from application.ports import ResourceState, UnreadableItem
from application.reconcile import (
    GroupKey,
    Reconcile,
    SweepLimits,
    SweepOutcome,
    SweepRequest,
)
from domain.lifecycle import RecordUpdate
from domain.records import CLOSED_STATUS, ELM_AUTOMATION, Action, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
VOLUME = "AWS::EC2::Volume"
BUCKET = "AWS::S3::Bucket"

SG_RULE = Rule(1, "sg-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
BUCKET_RULE = Rule(
    2, "s3-public", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE, frozenset({BUCKET})
)
VOLUME_RULE = Rule(
    3, "ebs-unencrypted", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, frozenset({VOLUME})
)
UNTYPED_RULE = Rule(4, "untyped", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
TWO_TYPE_RULE = Rule(
    5, "two-types", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG, VOLUME})
)
ROLE = "AWS::IAM::Role"
DB = "AWS::RDS::DBInstance"
ROLE_NAME_RULE = Rule(
    6, "iam-role-boundary", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({ROLE})
)
ROLE_ARN_RULE = Rule(
    7, "iam-role-arn", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE, frozenset({ROLE})
)
DB_COMPOSITE_RULE = Rule(
    8, "rds-multi-az", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, frozenset({DB})
)


@define
class MeteredInventory:
    """The inventory twin behind a meter: each call costs time, and call N can be throttled."""

    inner: InMemoryInventory
    timer: ManualTimer
    seconds_per_call: float = 0.0
    throttle_on_call: int | None = None
    call_times: list[tuple[str, float]] = field(factory=list)

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        self._meter(account_id)
        return self.inner.lookup(account_id, region, resource_type, resource_ids)

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        self._meter(account_id)
        return self.inner.lookup_by_name(account_id, region, resource_type, resource_name)

    def _meter(self, account_id: str) -> None:
        self.call_times.append((account_id, self.timer.monotonic()))
        self.timer.advance(self.seconds_per_call)
        if self.throttle_on_call == len(self.call_times):
            raise TransientError("ThrottlingException: Rate exceeded")


@define
class World:
    """Every port's twin, and a way to run the sweep over them."""

    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    config: InMemoryInventory = field(factory=InMemoryInventory)
    clock: FixedClock = field(factory=FixedClock)
    timer: ManualTimer = field(factory=ManualTimer)
    inventory: MeteredInventory = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.inventory = MeteredInventory(self.config, self.timer)
        for rule in (
            SG_RULE,
            BUCKET_RULE,
            VOLUME_RULE,
            UNTYPED_RULE,
            TWO_TYPE_RULE,
            ROLE_NAME_RULE,
            ROLE_ARN_RULE,
            DB_COMPOSITE_RULE,
        ):
            self.rules.add(rule)

    def exception(
        self,
        rule: Rule,
        key: str,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        resource_type: str | None = None,
        deleted_members: frozenset[str] = frozenset(),
    ) -> RecordKey:
        record_key = RecordKey(account, rule.rule_id, key)
        self.store.add(
            ExceptionRecord(
                record_key, region, resource_type=resource_type, deleted_members=deleted_members
            )
        )
        return record_key

    def resource(
        self,
        resource_type: str,
        resource_id: str,
        *,
        deleted: bool,
        name: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> None:
        self.config.put(account, region, resource_type, resource_id, name=name, deleted=deleted)

    def sweep(
        self, request: SweepRequest | None = None, *, policy: Policy | None = None, **limits: float
    ) -> Reconcile:
        return Reconcile(
            self.rules,
            self.store,
            self.inventory,
            self.clock,
            self.timer,
            policy or Policy(),
            SweepLimits(**limits),  # type: ignore[arg-type]
        )

    def record(self, record_key: RecordKey) -> ExceptionRecord:
        record = self.store.get(record_key)
        assert record is not None
        return record


@pytest.fixture
def world() -> World:
    return World()


def test_a_deletion_whose_event_was_lost_is_closed_with_a_reconciled_history_entry(
    world: World,
) -> None:
    key = world.exception(SG_RULE, "sg-0lost", resource_type=SG)
    world.resource(SG, "sg-0lost", deleted=True)

    report = world.sweep().execute(SweepRequest(run_id="reconcile-1"))

    record = world.record(key)
    assert record.status == CLOSED_STATUS
    assert record.ttl is not None
    assert record.last_modified_by == ELM_AUTOMATION
    assert [(h.event_id, h.action, h.member) for h in record.history] == [
        ("reconcile-1", Action.RECONCILED, None)
    ]
    assert report.count(SweepOutcome.CLOSED) == 1
    assert report.per_account == {ACCOUNT: {SweepOutcome.CLOSED: 1}}
    assert [(n.record_key, n.outcome) for n in report.changes] == [(key, SweepOutcome.CLOSED)]
    assert report.complete


def test_the_run_id_defaults_to_one_derived_from_the_clock(world: World) -> None:
    key = world.exception(SG_RULE, "sg-0lost", resource_type=SG)
    world.resource(SG, "sg-0lost", deleted=True)

    report = world.sweep().execute()

    assert report.run_id == "reconcile-20260304T101530Z"
    assert world.record(key).history[0].event_id == report.run_id


def test_an_arn_key_is_asked_by_its_resource_part_and_closed(world: World) -> None:
    key = world.exception(BUCKET_RULE, "arn:aws:s3:::lost-bucket")
    world.resource(BUCKET, "lost-bucket", deleted=True)

    report = world.sweep().execute()

    assert world.record(key).is_closed
    assert world.record(key).resource_type == BUCKET
    assert report.count(SweepOutcome.CLOSED) == 1
    assert world.config.calls[0].resource_ids == ("lost-bucket",)


def test_an_arn_of_another_type_is_listed_not_asked(world: World) -> None:
    # An ARN carries its type: a queue's ARN under a bucket rule names no bucket.
    key = world.exception(BUCKET_RULE, f"arn:aws:sqs:{REGION}:{ACCOUNT}:lost-bucket")
    world.resource(BUCKET, "lost-bucket", deleted=True)

    report = world.sweep().execute()

    assert not world.record(key).is_closed
    assert [(n.record_key, n.outcome) for n in report.unresolved] == [(key, SweepOutcome.BAD_KEY)]


def test_an_arn_naming_another_account_is_listed_not_asked(world: World) -> None:
    key = world.exception(BUCKET_RULE, f"arn:aws:sqs:{REGION}:{OTHER_ACCOUNT}:queue")

    report = world.sweep().execute()

    assert [(n.record_key, n.outcome) for n in report.unresolved] == [(key, SweepOutcome.BAD_KEY)]
    assert OTHER_ACCOUNT in report.unresolved[0].reason
    assert world.config.calls == []


def test_a_partially_deleted_composite_is_completed(world: World) -> None:
    key = world.exception(VOLUME_RULE, "vol-1,vol-2,vol-3", deleted_members=frozenset({"vol-1"}))
    for volume in ("vol-1", "vol-2", "vol-3"):
        world.resource(VOLUME, volume, deleted=True)

    report = world.sweep().execute(SweepRequest(run_id="reconcile-2"))

    record = world.record(key)
    assert record.is_closed
    assert record.deleted_members == {"vol-1", "vol-2", "vol-3"}
    assert [(h.action, h.member) for h in record.history] == [
        (Action.RECONCILED, "vol-2"),
        (Action.RECONCILED, "vol-3"),
        (Action.RECONCILED, None),
    ]
    assert report.changes[0].members == ("vol-2", "vol-3")
    assert world.config.calls[0].resource_ids == ("vol-2", "vol-3")


def test_a_composite_with_a_surviving_member_records_the_deleted_ones_and_stays_open(
    world: World,
) -> None:
    key = world.exception(VOLUME_RULE, "vol-1,vol-2")
    world.resource(VOLUME, "vol-1", deleted=True)
    world.resource(VOLUME, "vol-2", deleted=False)

    report = world.sweep().execute()

    record = world.record(key)
    assert not record.is_closed
    assert record.deleted_members == {"vol-1"}
    assert report.count(SweepOutcome.MEMBER_DELETED) == 1


def test_existing_and_unreported_resources_are_left_untouched(world: World) -> None:
    existing = world.exception(SG_RULE, "sg-0alive", resource_type=SG)
    unreported = world.exception(SG_RULE, "sg-0unknown", resource_type=SG)
    world.resource(SG, "sg-0alive", deleted=False)
    before = [world.record(existing), world.record(unreported)]

    report = world.sweep().execute()

    assert world.store.writes == []
    assert [world.record(existing), world.record(unreported)] == before
    assert report.count(SweepOutcome.NOT_CONFIRMED) == 2
    assert report.changes == ()


def test_a_key_holding_an_iam_role_name_is_asked_by_name_and_closed(world: World) -> None:
    # Config's resourceId of a role is its role ID (AROA…); the exception names the role.
    key = world.exception(ROLE_NAME_RULE, "app-role")
    world.resource(ROLE, "AROAEXAMPLEOLDROLE01", name="app-role", deleted=True)

    report = world.sweep().execute(SweepRequest(run_id="reconcile-9"))

    record = world.record(key)
    assert record.is_closed
    assert [(h.event_id, h.action) for h in record.history] == [("reconcile-9", Action.RECONCILED)]
    assert [c.resource_ids for c in world.config.calls] == [("app-role",)]
    assert world.config.name_calls == [InventoryNameCall(ACCOUNT, REGION, ROLE, "app-role")]
    assert (report.config_calls, report.name_calls) == (2, 1)
    assert [(n.record_key, n.outcome) for n in report.changes] == [(key, SweepOutcome.CLOSED)]


def test_a_name_in_use_again_by_a_live_resource_is_not_confirmed(world: World) -> None:
    key = world.exception(ROLE_NAME_RULE, "app-role")
    world.resource(ROLE, "AROAEXAMPLEOLDROLE01", name="app-role", deleted=True)
    world.resource(ROLE, "AROAEXAMPLENEWROLE02", name="app-role", deleted=False)

    report = world.sweep().execute()

    assert not world.record(key).is_closed
    assert world.store.writes == []
    assert report.count(SweepOutcome.NOT_CONFIRMED) == 1


def test_a_name_config_does_not_know_is_not_confirmed(world: World) -> None:
    key = world.exception(ROLE_NAME_RULE, "never-recorded")

    report = world.sweep().execute()

    assert not world.record(key).is_closed
    assert report.count(SweepOutcome.NOT_CONFIRMED) == 1
    assert report.name_calls == 1


def test_an_arn_key_whose_resource_part_is_a_name_is_closed(world: World) -> None:
    key = world.exception(ROLE_ARN_RULE, f"arn:aws:iam::{ACCOUNT}:role/service/app-role")
    world.resource(ROLE, "AROAEXAMPLEOLDROLE01", name="app-role", deleted=True)

    report = world.sweep().execute()

    assert world.record(key).is_closed
    assert world.record(key).resource_type == ROLE
    assert world.config.name_calls == [InventoryNameCall(ACCOUNT, REGION, ROLE, "app-role")]
    assert report.count(SweepOutcome.CLOSED) == 1


def test_a_composite_with_an_id_member_and_a_name_member_is_closed(world: World) -> None:
    # An RDS instance's resourceId is its DbiResourceId; its name is the DB identifier.
    key = world.exception(DB_COMPOSITE_RULE, "db-ABCDEFGHIJKLMNOP,orders-db")
    world.resource(DB, "db-ABCDEFGHIJKLMNOP", name="billing-db", deleted=True)
    world.resource(DB, "db-QRSTUVWXYZ012345", name="orders-db", deleted=True)

    report = world.sweep().execute()

    record = world.record(key)
    assert record.is_closed
    assert record.deleted_members == {"db-ABCDEFGHIJKLMNOP", "orders-db"}
    assert [c.resource_ids for c in world.config.calls] == [("db-ABCDEFGHIJKLMNOP", "orders-db")]
    # The member Config reported by ID is not asked again by name.
    assert [c.resource_name for c in world.config.name_calls] == ["orders-db"]
    assert report.changes[0].members == ("db-ABCDEFGHIJKLMNOP", "orders-db")


def test_a_composite_whose_name_member_is_alive_records_only_the_deleted_one(
    world: World,
) -> None:
    key = world.exception(DB_COMPOSITE_RULE, "db-ABCDEFGHIJKLMNOP,orders-db")
    world.resource(DB, "db-ABCDEFGHIJKLMNOP", deleted=True)
    world.resource(DB, "db-QRSTUVWXYZ012345", name="orders-db", deleted=False)

    report = world.sweep().execute()

    assert not world.record(key).is_closed
    assert world.record(key).deleted_members == {"db-ABCDEFGHIJKLMNOP"}
    assert report.count(SweepOutcome.MEMBER_DELETED) == 1


@define
class PrefixNamedInventory(InMemoryInventory):
    """A twin whose name filter matches prefixes: Config's is not documented as exact."""

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        wider = [f"{resource_name}-prod", resource_name]
        return tuple(
            s
            for name in wider
            for s in InMemoryInventory.lookup_by_name(self, account_id, region, resource_type, name)
        )


def test_only_a_resource_of_exactly_that_name_counts() -> None:
    world = World(config=PrefixNamedInventory())
    key = world.exception(ROLE_NAME_RULE, "db")
    world.resource(ROLE, "AROAEXAMPLEPRODROLE1", name="db-prod", deleted=True)

    report = world.sweep().execute()

    assert not world.record(key).is_closed
    assert report.count(SweepOutcome.NOT_CONFIRMED) == 1


def test_name_calls_are_paced_and_a_budget_spent_between_them_writes_nothing_of_the_batch(
    world: World,
) -> None:
    first = world.exception(ROLE_NAME_RULE, "role-a")
    second = world.exception(ROLE_NAME_RULE, "role-b")
    world.resource(ROLE, "AROAEXAMPLEROLEA0001", name="role-a", deleted=True)
    world.resource(ROLE, "AROAEXAMPLEROLEB0001", name="role-b", deleted=True)
    world.inventory.seconds_per_call = 10.0

    report = world.sweep(budget_seconds=25.0).execute()

    # Each name is its own call, in the account's paced sequence: by ID, role-a, role-b.
    assert report.complete
    assert [t for _, t in world.inventory.call_times] == [0.0, 10.0, 20.0]
    assert world.record(first).is_closed
    assert world.record(second).is_closed

    third = world.exception(ROLE_NAME_RULE, "role-c")
    fourth = world.exception(ROLE_NAME_RULE, "role-d")
    world.resource(ROLE, "AROAEXAMPLEROLEC0001", name="role-c", deleted=True)
    world.resource(ROLE, "AROAEXAMPLEROLED0001", name="role-d", deleted=True)

    # Now by ID at 30, role-c at 40; role-d would start at 50, past the budget (45): the
    # batch is left whole, though role-c's answer was in.
    stopped = world.sweep(budget_seconds=15.0).execute()

    assert stopped.stopped is not None
    assert stopped.stopped.resume_from == GroupKey(ACCOUNT, REGION, ROLE)
    assert stopped.count(SweepOutcome.NOT_REACHED) == 2
    assert not world.record(third).is_closed
    assert not world.record(fourth).is_closed
    assert (stopped.config_calls, stopped.name_calls) == (2, 1)


def test_a_throttled_name_call_fails_the_group_and_writes_nothing_of_it(world: World) -> None:
    key = world.exception(ROLE_NAME_RULE, "app-role")
    world.resource(ROLE, "AROAEXAMPLEOLDROLE01", name="app-role", deleted=True)
    world.inventory.throttle_on_call = 2  # the name call, after the call by ID

    report = world.sweep().execute()

    assert not world.record(key).is_closed
    assert report.count(SweepOutcome.FAILED) == 1
    assert [(f.group, f.records) for f in report.failures] == [(GroupKey(ACCOUNT, REGION, ROLE), 1)]
    assert "ThrottlingException" in report.failures[0].reason


def test_records_of_unknown_type_are_counted_and_listed_never_guessed(world: World) -> None:
    no_type = world.exception(UNTYPED_RULE, "thing-1")
    ambiguous = world.exception(TWO_TYPE_RULE, "thing-2")
    world.resource(SG, "thing-1", deleted=True)
    world.resource(SG, "thing-2", deleted=True)

    report = world.sweep().execute()

    assert report.count(SweepOutcome.UNKNOWN_TYPE) == 2
    assert {(n.record_key, n.outcome) for n in report.unresolved} == {
        (no_type, SweepOutcome.UNKNOWN_TYPE),
        (ambiguous, SweepOutcome.UNKNOWN_TYPE),
    }
    assert "lists several" in next(n.reason for n in report.unresolved if n.record_key == ambiguous)
    assert world.config.calls == []
    assert world.store.writes == []


def test_the_rules_only_resource_type_stands_in_for_a_missing_one(world: World) -> None:
    key = world.exception(VOLUME_RULE, "vol-9")  # no ResourceType on the record
    world.resource(VOLUME, "vol-9", deleted=True)

    world.sweep().execute()

    assert world.record(key).is_closed
    assert world.config.calls[0].resource_type == VOLUME


def test_a_record_of_a_rule_missing_from_the_rules_table_is_listed(world: World) -> None:
    key = RecordKey(ACCOUNT, 99, "sg-0orphan")
    world.store.add(ExceptionRecord(key, REGION, resource_type=SG))

    report = world.sweep().execute()

    assert [(n.record_key, n.outcome) for n in report.unresolved] == [
        (key, SweepOutcome.UNKNOWN_RULE)
    ]


def test_records_are_grouped_by_account_region_and_type_at_most_20_ids_a_call(
    world: World,
) -> None:
    for n in range(45):
        world.exception(SG_RULE, f"sg-{n:04d}", resource_type=SG)
        world.resource(SG, f"sg-{n:04d}", deleted=False)  # reported by ID: no name calls
    world.exception(SG_RULE, "sg-other-region", resource_type=SG, region="us-east-1")
    world.resource(SG, "sg-other-region", deleted=False, region="us-east-1")
    world.exception(SG_RULE, "sg-other-account", resource_type=SG, account=OTHER_ACCOUNT)
    world.resource(SG, "sg-other-account", deleted=False, account=OTHER_ACCOUNT)
    world.exception(VOLUME_RULE, "vol-1,vol-2")
    world.resource(VOLUME, "vol-1", deleted=False)
    world.resource(VOLUME, "vol-2", deleted=False)

    report = world.sweep().execute()

    calls = [
        (c.account_id, c.region, c.resource_type, len(c.resource_ids)) for c in world.config.calls
    ]
    assert sorted(calls) == sorted(
        [
            (ACCOUNT, REGION, SG, 20),
            (ACCOUNT, REGION, SG, 20),
            (ACCOUNT, REGION, SG, 5),
            (ACCOUNT, "us-east-1", SG, 1),
            (OTHER_ACCOUNT, REGION, SG, 1),
            (ACCOUNT, REGION, VOLUME, 2),
        ]
    )
    assert report.config_calls == 6
    assert world.config.name_calls == []  # every ID was reported by ID
    assert report.groups == 4
    assert report.records_scanned == 48


def test_a_composite_of_more_than_20_members_is_asked_in_several_calls(world: World) -> None:
    members = [f"vol-{n:03d}" for n in range(45)]
    key = world.exception(VOLUME_RULE, ",".join(members))
    for member in members:
        world.resource(VOLUME, member, deleted=True)

    report = world.sweep().execute()

    assert [len(c.resource_ids) for c in world.config.calls] == [20, 20, 5]
    assert world.record(key).is_closed
    assert report.config_calls == 3


def test_throttling_mid_sweep_leaves_nothing_half_written(world: World) -> None:
    members = [f"vol-{n:03d}" for n in range(30)]
    composite = world.exception(VOLUME_RULE, ",".join(members))
    for member in members:
        world.resource(VOLUME, member, deleted=True)
    simple = world.exception(SG_RULE, "sg-0lost", resource_type=SG)
    world.resource(SG, "sg-0lost", deleted=True)
    world.inventory.throttle_on_call = 2  # the composite's second call (its group comes first)

    report = world.sweep().execute()

    assert world.record(composite).deleted_members == frozenset()
    assert world.record(composite).history == ()
    assert world.record(simple).is_closed  # the other group goes on
    assert report.count(SweepOutcome.FAILED) == 1
    assert [(f.group, f.records) for f in report.failures] == [
        (GroupKey(ACCOUNT, REGION, VOLUME), 1)
    ]
    assert "ThrottlingException" in report.failures[0].reason


def test_a_failed_write_fails_the_rest_of_its_group_and_keeps_the_written_ones(
    world: World,
) -> None:
    keys = [world.exception(SG_RULE, f"sg-{n}", resource_type=SG) for n in range(3)]
    for n in range(3):
        world.resource(SG, f"sg-{n}", deleted=True)
    failing = FailingOnSecondWrite()
    for key in keys:
        failing.add(world.record(key))
    world.store = failing

    report = world.sweep().execute()

    assert [failing.get(k).is_closed for k in keys] == [True, False, False]  # type: ignore[union-attr]
    assert report.count(SweepOutcome.CLOSED) == 1
    assert report.count(SweepOutcome.FAILED) == 2
    assert "exception table" in report.failures[0].reason


@define
class FailingOnSecondWrite(InMemoryExceptionStore):
    """A store that is throttled from its second write on."""

    attempts: int = 0

    def apply(self, update: RecordUpdate) -> None:
        self.attempts += 1
        if self.attempts >= 2:
            raise TransientError("ProvisionedThroughputExceededException")
        super().apply(update)


def test_a_dry_run_writes_nothing_and_reports_what_it_would_do(world: World) -> None:
    key = world.exception(SG_RULE, "sg-0lost", resource_type=SG)
    world.resource(SG, "sg-0lost", deleted=True)

    report = world.sweep().execute(SweepRequest(dry_run=True))

    assert world.store.writes == []
    assert not world.record(key).is_closed
    assert report.dry_run
    assert report.count(SweepOutcome.CLOSED) == 1
    assert "would be closed" in report.changes[0].reason


def test_the_policys_dry_run_applies_when_the_request_does_not_say(world: World) -> None:
    world.exception(SG_RULE, "sg-0lost", resource_type=SG)
    world.resource(SG, "sg-0lost", deleted=True)

    report = world.sweep(policy=Policy(dry_run=True)).execute()

    assert report.dry_run
    assert world.store.writes == []


def test_a_record_closed_by_an_event_meanwhile_is_a_duplicate_closed_once(world: World) -> None:
    racing = RacingStore()
    world.store = racing
    key = world.exception(SG_RULE, "sg-0racy", resource_type=SG)
    world.resource(SG, "sg-0racy", deleted=True)
    event_path = HandleComplianceChange(world.rules, racing, world.config, world.clock)
    racing.race = lambda: event_path.execute(_deletion("sg-0racy"))

    report = world.sweep().execute()

    assert report.count(SweepOutcome.DUPLICATE) == 1
    assert racing.conflicts == 1
    assert [h.action for h in world.record(key).history] == [Action.CLOSED]


def _deletion(resource_id: str) -> str:
    return json.dumps(
        deletion_event(
            account_id=ACCOUNT,
            region=REGION,
            rule_name=SG_RULE.name,
            resource_type=SG,
            resource_id=resource_id,
            event_id="event-1",
        )
    )


@define
class RacingStore(InMemoryExceptionStore):
    """A store where another writer's write lands just before the first write it is given."""

    race: Callable[[], object] | None = None

    def apply(self, update: RecordUpdate) -> None:
        race, self.race = self.race, None
        if race is not None:
            race()
        super().apply(update)


def test_scope_is_narrowed_by_account_and_region(world: World) -> None:
    inside = world.exception(SG_RULE, "sg-in", resource_type=SG)
    elsewhere = world.exception(SG_RULE, "sg-out", resource_type=SG, region="us-east-1")
    other = world.exception(SG_RULE, "sg-other", resource_type=SG, account=OTHER_ACCOUNT)
    for account, region, sg in (
        (ACCOUNT, REGION, "sg-in"),
        (ACCOUNT, "us-east-1", "sg-out"),
        (OTHER_ACCOUNT, REGION, "sg-other"),
    ):
        world.resource(SG, sg, deleted=True, account=account, region=region)

    report = world.sweep().execute(
        SweepRequest(accounts=frozenset({ACCOUNT}), regions=frozenset({REGION}))
    )

    assert world.record(inside).is_closed
    assert not world.record(elsewhere).is_closed
    assert not world.record(other).is_closed
    assert report.per_account == {ACCOUNT: {SweepOutcome.CLOSED: 1}}


def test_accounts_outside_the_allowed_list_are_rejected_and_not_asked(world: World) -> None:
    key = world.exception(SG_RULE, "sg-x", resource_type=SG, account=OTHER_ACCOUNT)

    report = world.sweep(policy=Policy(allowed_accounts=frozenset({ACCOUNT}))).execute()

    assert [(n.record_key, n.outcome) for n in report.unresolved] == [(key, SweepOutcome.REJECTED)]
    assert world.config.calls == []


def test_config_calls_to_one_account_are_paced_and_other_accounts_do_not_wait(
    world: World,
) -> None:
    for n in range(3):
        world.exception(SG_RULE, f"sg-{n}", resource_type=SG, region=f"eu-west-{n + 1}")
        world.resource(SG, f"sg-{n}", deleted=False, region=f"eu-west-{n + 1}")
    world.exception(SG_RULE, "sg-9", resource_type=SG, account=OTHER_ACCOUNT)
    world.resource(SG, "sg-9", deleted=False, account=OTHER_ACCOUNT)

    world.sweep(max_calls_per_second=2.0).execute()

    mine = [t for a, t in world.inventory.call_times if a == ACCOUNT]
    assert [b - a for a, b in itertools.pairwise(mine)] == [0.5, 0.5]
    assert world.timer.sleeps == [0.5, 0.5]  # none before the other account's call


def test_a_spent_budget_stops_cleanly_and_a_resumed_run_finishes(world: World) -> None:
    # Four groups, one per region; the first two hold live resources, so a plain re-run with
    # the same budget would ask about them again and never get further: the cursor does.
    keys = {}
    for r in (1, 2, 3, 4):
        region = f"eu-west-{r}"
        for n in range(2):
            sg = f"sg-{r}-{n}"
            keys[sg] = world.exception(SG_RULE, sg, resource_type=SG, region=region)
            world.resource(SG, sg, deleted=r > 2, region=region)
    world.inventory.seconds_per_call = 10.0

    first = world.sweep(budget_seconds=15.0).execute()

    assert first.stopped is not None
    assert first.stopped.resume_from == GroupKey(ACCOUNT, "eu-west-3", SG)
    assert first.config_calls == 2
    assert first.count(SweepOutcome.NOT_CONFIRMED) == 4
    assert first.count(SweepOutcome.NOT_REACHED) == 4
    assert world.store.writes == []

    second = world.sweep(budget_seconds=15.0).execute(
        SweepRequest(resume_from=first.stopped.resume_from)
    )

    assert [c.region for c in world.config.calls[2:]] == ["eu-west-3", "eu-west-4"]
    assert second.count(SweepOutcome.CLOSED) == 4
    assert all(world.record(keys[f"sg-{r}-{n}"]).is_closed for r in (3, 4) for n in (0, 1))
    assert all(len(world.record(k).history) <= 1 for k in keys.values())


def test_a_resumed_run_wraps_around_to_the_groups_before_the_cursor(world: World) -> None:
    for region in ("eu-west-1", "eu-west-2"):
        world.exception(SG_RULE, f"sg-{region}", resource_type=SG, region=region)

    world.sweep().execute(SweepRequest(resume_from=GroupKey(ACCOUNT, "eu-west-2", SG)))

    assert [c.region for c in world.config.calls] == ["eu-west-2", "eu-west-1"]


def test_a_second_run_without_a_cursor_continues_because_closed_records_drop_out(
    world: World,
) -> None:
    for n in range(4):
        world.exception(SG_RULE, f"sg-{n}", resource_type=SG, region=f"eu-west-{n + 1}")
        world.resource(SG, f"sg-{n}", deleted=True, region=f"eu-west-{n + 1}")
    world.inventory.seconds_per_call = 10.0

    first = world.sweep(budget_seconds=25.0).execute()
    second = world.sweep(budget_seconds=25.0).execute()

    assert first.count(SweepOutcome.CLOSED) + second.count(SweepOutcome.CLOSED) == 4
    assert second.complete
    assert second.records_scanned == 4 - first.count(SweepOutcome.CLOSED)


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("111122223333/eu-west-1", "ACCOUNT/REGION/TYPE"),
        ("1111/eu-west-1/AWS::EC2::Volume", "12 digits"),
        ("111122223333/nowhere/AWS::EC2::Volume", "region"),
    ],
)
def test_a_bad_resume_cursor_is_refused_with_its_reason(cursor: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GroupKey.from_cursor(cursor)


def test_a_cursor_round_trips() -> None:
    group = GroupKey(ACCOUNT, REGION, VOLUME)

    assert GroupKey.from_cursor(group.cursor) == group


@define
class FailingScan(InMemoryExceptionStore):
    """A store whose Scan fails after handing out ``good`` records."""

    good: int = 1
    error: Exception = field(factory=lambda: TransientError("ProvisionedThroughputExceeded"))

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        for handed, record in enumerate(super().scan_open(page_size, on_unreadable)):
            if handed == self.good:
                raise self.error
            yield record


@pytest.mark.parametrize(
    "error",
    [
        TransientError("ProvisionedThroughputExceeded"),
        RecordFormatError("item (111122223333_1, sg-1): RuleId must be a number"),
    ],
)
def test_a_scan_that_fails_writes_nothing_of_its_segment_and_reports_the_table_unread(
    world: World, error: Exception
) -> None:
    """The Scan segment is one work item: it fails whole (the deployed queue gives it back;
    in one process the report says the table was not read) and none of its records is
    settled from a half-read segment."""
    world.store = FailingScan(good=1, error=error)
    first = world.exception(SG_RULE, "sg-a", resource_type=SG)
    second = world.exception(SG_RULE, "sg-b", resource_type=SG)
    world.resource(SG, "sg-a", deleted=True)
    world.resource(SG, "sg-b", deleted=True)

    report = world.sweep().execute()

    assert not world.record(first).is_closed
    assert not world.record(second).is_closed
    assert report.scan_failure is not None
    assert str(error) in report.scan_failure
    assert report.failed
    assert not report.complete


def test_the_sweep_reconciles_only_the_rules_of_its_environment(world: World) -> None:
    # Environments may share the tables: a DEV sweep must never close a PROD exception.
    prod_rule = Rule(
        20, "prod-sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
    )
    dev_rule = Rule(
        21, "DEV-sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
    )
    world.rules.add(prod_rule)
    world.rules.add(dev_rule)
    prod = world.exception(prod_rule, "sg-prod", resource_type=SG)
    dev = world.exception(dev_rule, "sg-dev", resource_type=SG)
    world.resource(SG, "sg-prod", deleted=True)
    world.resource(SG, "sg-dev", deleted=True)

    report = world.sweep(policy=Policy(rule_prefix="DEV-")).execute()

    assert world.record(dev).is_closed
    assert not world.record(prod).is_closed
    assert report.count(SweepOutcome.CLOSED) == 1
    assert report.count(SweepOutcome.OUT_OF_SCOPE) == 1
    assert all("sg-prod" not in call for call in map(str, world.config.calls))


def test_open_records_that_carry_a_ttl_are_listed_and_still_swept(world: World) -> None:
    # Re-opened by hand after ELM closed them, they still carry ELM's TTL: DynamoDB would
    # delete an active exception. The sweep lists them; it does not decide for them.
    reopened = world.exception(SG_RULE, "sg-reopened", resource_type=SG)
    world.store.add(evolve(world.record(reopened), ttl=1_900_000_000))
    lost = world.exception(SG_RULE, "sg-lost", resource_type=SG)
    world.store.add(evolve(world.record(lost), ttl=1_900_000_000))
    world.exception(SG_RULE, "sg-plain", resource_type=SG)
    world.resource(SG, "sg-reopened", deleted=False)
    world.resource(SG, "sg-lost", deleted=True)

    report = world.sweep().execute()

    assert {(e.record_key, e.ttl) for e in report.expiring} == {
        (reopened, 1_900_000_000),
        (lost, 1_900_000_000),
    }
    assert world.record(lost).is_closed
    assert not world.record(reopened).is_closed
