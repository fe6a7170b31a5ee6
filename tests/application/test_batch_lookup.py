"""A batch asks AWS Config once per account, region and type (20 IDs a call), and nothing else
changes: the same outcomes and the same table as handling its events one at a time."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define, field
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.in_memory import InMemoryExceptionStore, InMemoryInventory
from application.batch_lookup import BatchReadStore, PrefetchingInventory, prepare_batch
from application.errors import TransientError
from application.handle_change import ChangeResult, LookupRequest
from application.ports import Message, ResourceState
from application.process_batch import ProcessBatch
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey
from tests.application.estate import (
    ACCOUNT,
    BUCKET,
    COMPOSITE_ID,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SG,
    SIMPLE_ARN,
    SIMPLE_ID,
    VOLUME,
    Estate,
    event,
    new_estate,
)


def _messages(*bodies: object) -> list[Message]:
    return [
        Message(f"m-{n}", body if isinstance(body, str) else json.dumps(body))
        for n, body in enumerate(bodies)
    ]


def _outcomes(estate: Estate, *bodies: object, **policy: Any) -> list[Outcome]:
    report = ProcessBatch(estate.handler(**policy)).execute(_messages(*bodies))
    return [r.outcome for _, r in report.results]


def _deleted_sgs(estate: Estate, count: int, *, account: str = ACCOUNT) -> list[dict[str, Any]]:
    events = []
    for n in range(count):
        estate.exception(SIMPLE_ID, f"sg-{n}", account=account)
        estate.deleted(SG, f"sg-{n}", account=account)
        events.append(event(SIMPLE_ID, SG, f"sg-{n}", account=account))
    return events


def test_ten_events_of_one_account_region_and_type_make_one_config_call(
    estate: Estate,
) -> None:
    outcomes = _outcomes(estate, *_deleted_sgs(estate, 10))
    assert outcomes == [Outcome.CLOSED] * 10
    assert len(estate.inventory.calls) == 1
    assert estate.inventory.calls[0].resource_ids == tuple(f"sg-{n}" for n in range(10))


def test_twenty_five_events_make_two_calls_of_at_most_twenty_ids(estate: Estate) -> None:
    outcomes = _outcomes(estate, *_deleted_sgs(estate, 25))
    assert outcomes == [Outcome.CLOSED] * 25
    assert [len(c.resource_ids) for c in estate.inventory.calls] == [20, 5]


def test_each_account_region_and_type_gets_its_own_call(estate: Estate) -> None:
    bodies: list[dict[str, Any]] = _deleted_sgs(estate, 2)
    for name in ("logs-a", "logs-b"):
        estate.exception(SIMPLE_ARN, f"arn:aws:s3:::{name}")
        estate.deleted(BUCKET, name, name=name)
        bodies.append(event(SIMPLE_ARN, BUCKET, name))
    estate.exception(SIMPLE_ID, "sg-east", region=OTHER_REGION)
    estate.deleted(SG, "sg-east", region=OTHER_REGION)
    bodies.append(event(SIMPLE_ID, SG, "sg-east", region=OTHER_REGION))
    bodies.extend(_deleted_sgs(estate, 1, account=OTHER_ACCOUNT))
    assert _outcomes(estate, *bodies) == [Outcome.CLOSED] * 6
    calls = [
        (c.account_id, c.region, c.resource_type, c.resource_ids) for c in estate.inventory.calls
    ]
    assert len(calls) == 4
    assert set(calls) == {
        (ACCOUNT, OTHER_REGION, SG, ("sg-east",)),
        (ACCOUNT, REGION, BUCKET, ("logs-a", "logs-b")),
        (ACCOUNT, REGION, SG, ("sg-0", "sg-1")),
        (OTHER_ACCOUNT, REGION, SG, ("sg-0",)),
    }


def test_composites_companions_are_asked_in_the_batch_call(estate: Estate) -> None:
    bodies = []
    for n in range(10):
        members = [f"vol-{n}a", f"vol-{n}b", f"vol-{n}c"]
        estate.exception(COMPOSITE_ID, ",".join(members))
        estate.deleted(VOLUME, members[0])
        for member in members[1:]:
            estate.existing(VOLUME, member)
        bodies.append(event(COMPOSITE_ID, VOLUME, members[0]))
    assert _outcomes(estate, *bodies) == [Outcome.MEMBER_DELETED] * 10
    # 10 deleted members and their 20 companions: 30 IDs, two calls.
    assert [len(c.resource_ids) for c in estate.inventory.calls] == [20, 10]


def test_forged_ignored_and_invalid_events_are_never_looked_up(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1", account=OTHER_ACCOUNT)
    estate.deleted(SG, "sg-1", account=OTHER_ACCOUNT)
    forged = event(SIMPLE_ID, SG, "sg-1", account=OTHER_ACCOUNT) | {"account": ACCOUNT}
    not_deletion = event(SIMPLE_ID, SG, "sg-1", account=OTHER_ACCOUNT)
    not_deletion["detail"]["newEvaluationResult"]["complianceType"] = "NON_COMPLIANT"
    outside = event(SIMPLE_ID, SG, "sg-1", account=OTHER_ACCOUNT)
    outcomes = _outcomes(
        estate, forged, not_deletion, outside, "not json", {}, allowed_accounts={ACCOUNT}
    )
    assert outcomes == [
        Outcome.REJECTED,
        Outcome.IGNORED,
        Outcome.REJECTED,
        Outcome.INVALID,
        Outcome.INVALID,
    ]
    assert estate.inventory.calls == []


def test_events_no_exception_could_match_make_no_call(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-closed", status="RESOURCE_DELETED")
    estate.deleted(SG, "sg-1")
    estate.deleted(SG, "sg-closed")
    unknown_rule = event(SIMPLE_ID, SG, "sg-1") | {}
    unknown_rule["detail"]["configRuleName"] = "not-a-known-rule"
    bodies = [
        event(SIMPLE_ID, SG, "sg-1", account=OTHER_ACCOUNT),
        event(SIMPLE_ID, SG, "sg-closed"),
        unknown_rule,
    ]
    assert _outcomes(estate, *bodies) == [Outcome.NO_MATCH, Outcome.DUPLICATE, Outcome.IGNORED]
    assert estate.inventory.calls == []


def test_a_failing_account_fails_only_its_own_records(estate: Estate) -> None:
    ours = _deleted_sgs(estate, 2)
    theirs = _deleted_sgs(estate, 2, account=OTHER_ACCOUNT)
    estate.inventory.failing_accounts[OTHER_ACCOUNT] = "AccessDenied"
    report = ProcessBatch(estate.handler()).execute(_messages(theirs[0], *ours, theirs[1]))
    assert [r.outcome for _, r in report.results] == [
        Outcome.FAILED,
        Outcome.CLOSED,
        Outcome.CLOSED,
        Outcome.FAILED,
    ]
    assert report.failed_message_ids == ["m-0", "m-3"]
    assert all("AccessDenied" in r.reason for _, r in report.results if r.outcome.fails_record)


@define
class _PoisonedInventory(InMemoryInventory):
    """Fails any lookup that includes one particular ID (a call Config refuses as a whole)."""

    poison: str = "sg-poison"
    refused: list[tuple[str, ...]] = field(factory=list)

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        if self.poison in resource_ids:
            self.refused.append(tuple(resource_ids))
            raise TransientError(f"Config refused a call asking for {self.poison}")
        return super().lookup(account_id, region, resource_type, resource_ids)


def test_a_group_lookup_that_fails_fails_only_the_record_it_fails_for() -> None:
    estate = new_estate()
    estate.inventory = _PoisonedInventory()
    bodies = []
    for resource_id in ("sg-1", "sg-poison", "sg-3"):
        estate.exception(SIMPLE_ID, resource_id)
        estate.deleted(SG, resource_id)
        bodies.append(event(SIMPLE_ID, SG, resource_id))
    assert _outcomes(estate, *bodies) == [Outcome.CLOSED, Outcome.FAILED, Outcome.CLOSED]
    assert estate.inventory.refused == [("sg-1", "sg-poison", "sg-3"), ("sg-poison",)]
    # After the group failed, each event asked about its own resource only.
    assert [c.resource_ids for c in estate.inventory.calls] == [("sg-1",), ("sg-3",)]


def test_nothing_looked_up_is_kept_from_one_batch_to_the_next(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-1")
    estate.existing(SG, "sg-1")
    process = ProcessBatch(estate.handler())
    first = process.execute(_messages(event(SIMPLE_ID, SG, "sg-1", event_id="e1")))
    estate.deleted(SG, "sg-1")
    second = process.execute(_messages(event(SIMPLE_ID, SG, "sg-1", event_id="e2")))
    assert [r.outcome for _, r in first.results] == [Outcome.NOT_CONFIRMED]
    assert [r.outcome for _, r in second.results] == [Outcome.CLOSED]
    assert len(estate.inventory.calls) == 2


def test_ids_config_did_not_report_are_not_asked_again_in_the_batch(estate: Estate) -> None:
    estate.exception(SIMPLE_ID, "sg-gone")
    body = event(SIMPLE_ID, SG, "sg-gone")
    outcomes = _outcomes(estate, body, body | {"id": "another-delivery"})
    assert outcomes == [Outcome.NOT_CONFIRMED, Outcome.NOT_CONFIRMED]
    assert len(estate.inventory.calls) == 1


@define
class _CountingStore(InMemoryExceptionStore):
    """Counts the partition reads."""

    reads: list[tuple[str, int]] = field(factory=list)

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        self.reads.append((account_id, rule_id))
        return super().list_for(account_id, rule_id)


def test_a_later_event_of_the_batch_sees_what_an_earlier_one_wrote() -> None:
    estate = new_estate()
    estate.store = _CountingStore()
    key = estate.exception(COMPOSITE_ID, "vol-a,vol-b")
    estate.deleted(VOLUME, "vol-a")
    estate.deleted(VOLUME, "vol-b")
    bodies = [event(COMPOSITE_ID, VOLUME, "vol-a"), event(COMPOSITE_ID, VOLUME, "vol-b")]
    # The first event confirms both members (companions), so the second is a duplicate.
    assert _outcomes(estate, *bodies) == [Outcome.CLOSED, Outcome.DUPLICATE]
    assert estate.record(key).is_closed
    assert len(estate.store.writes) == 1
    # Read once to plan, reused by the first event, read again after its write.
    assert estate.store.reads == [(ACCOUNT, COMPOSITE_ID.rule_id)] * 2


def test_the_batch_store_reads_a_partition_once_until_it_is_written() -> None:
    store = _CountingStore()
    record = ExceptionRecord(RecordKey(ACCOUNT, 1, "sg-1"), REGION)
    store.add(record)
    batch = BatchReadStore(store)
    assert batch.list_for(ACCOUNT, 1) == batch.list_for(ACCOUNT, 1) == [record]
    assert len(store.reads) == 1
    other = ExceptionRecord(RecordKey(ACCOUNT, 1, "sg-2"), REGION)
    batch.add(other)
    assert batch.list_for(ACCOUNT, 1) == [record, other]
    assert len(store.reads) == 2


def test_the_batch_store_reads_many_keys_once_until_their_partition_is_written() -> None:
    store = InMemoryExceptionStore()
    one, two = (ExceptionRecord(RecordKey(ACCOUNT, 1, f"sg-{n}"), REGION) for n in (1, 2))
    store.add(one)
    batch = BatchReadStore(store)
    missing = RecordKey(ACCOUNT, 1, "sg-404")
    assert batch.get_many([one.record_key, missing]) == {one.record_key: one}
    # Known keys, found or not, are not asked again; the unknown one is, alone.
    assert batch.get_many([missing, one.record_key, two.record_key]) == {one.record_key: one}
    assert store.batch_gets == 2
    assert batch.get(one.record_key) == one
    assert store.gets == 0
    batch.add(two)
    assert batch.get_many([one.record_key, two.record_key]) == {
        one.record_key: one,
        two.record_key: two,
    }
    assert store.batch_gets == 3


def test_the_first_lookup_of_an_event_is_what_the_event_asks_first(estate: Estate) -> None:
    estate.exception(COMPOSITE_ID, "vol-a,vol-b,vol-c")
    handle = estate.handler()
    assert handle.first_lookup(event(COMPOSITE_ID, VOLUME, "vol-b")) == LookupRequest(
        ACCOUNT, REGION, VOLUME, ("vol-b", "vol-a", "vol-c")
    )
    # An open record the ID does not name may name the resource: Config is asked for it.
    assert handle.first_lookup(event(COMPOSITE_ID, VOLUME, "vol-x")) == LookupRequest(
        ACCOUNT, REGION, VOLUME, ("vol-x",)
    )
    assert handle.first_lookup(event(COMPOSITE_ID, VOLUME, "vol-b", region=OTHER_REGION)) is None
    handle.execute(event(COMPOSITE_ID, VOLUME, "vol-b"))
    assert [c.resource_ids for c in estate.inventory.calls] == [("vol-b", "vol-a", "vol-c")]


def test_a_lookup_asks_only_for_ids_not_asked_before(estate: Estate) -> None:
    estate.deleted(SG, "sg-1")
    inventory = PrefetchingInventory(estate.inventory)
    inventory.expect([LookupRequest(ACCOUNT, REGION, SG, ("sg-1", "sg-2"))])
    assert set(inventory.lookup(ACCOUNT, REGION, SG, ["sg-2"])) == set()
    assert set(inventory.lookup(ACCOUNT, REGION, SG, ["sg-1", "sg-3"])) == {"sg-1"}
    assert [c.resource_ids for c in estate.inventory.calls] == [("sg-2", "sg-1"), ("sg-3",)]


# --- Property: a batch ends exactly as its events handled one at a time -------------------

_IDS = ("vol-1", "vol-2", "vol-3", "vol-4")
_STATES = st.sampled_from(("deleted", "existing", "absent"))


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    composite = draw(st.lists(st.sampled_from(_IDS), min_size=1, max_size=3, unique=True))
    simple = draw(st.lists(st.sampled_from(_IDS), max_size=2, unique=True))
    states = {i: draw(_STATES) for i in _IDS}
    reports = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_IDS),
                st.sampled_from((COMPOSITE_ID, SIMPLE_ID)),
                st.booleans(),  # forged
                st.sampled_from((ACCOUNT, OTHER_ACCOUNT)),
            ),
            min_size=1,
            max_size=8,
        )
    )
    bodies = []
    for n, (resource_id, rule, forged, account) in enumerate(reports):
        body = event(rule, VOLUME, resource_id, account=account, event_id=f"e{n}")
        bodies.append(body | {"account": OTHER_ACCOUNT} if forged else body)
    world = {"composite": composite, "simple": simple, "states": states}
    return world, bodies


def _build(world: dict[str, Any]) -> Estate:
    estate = new_estate()
    for account in (ACCOUNT, OTHER_ACCOUNT):
        estate.exception(COMPOSITE_ID, ",".join(world["composite"]), account=account)
        for resource_id in world["simple"]:
            estate.exception(SIMPLE_ID, resource_id, account=account)
        for resource_id, state in world["states"].items():
            if state == "deleted":
                estate.deleted(VOLUME, resource_id, account=account)
            elif state == "existing":
                estate.existing(VOLUME, resource_id, account=account)
    return estate


def _comparable(results: Sequence[ChangeResult]) -> list[tuple[Outcome, str, object]]:
    return [(r.outcome, r.reason, r.records) for r in results]


@settings(max_examples=60, deadline=None)
@given(_worlds())
def test_a_batch_ends_exactly_as_its_events_handled_one_at_a_time(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    world, bodies = case
    batched, single = _build(world), _build(world)
    report = ProcessBatch(batched.handler()).execute(_messages(*bodies))
    alone = [single.handler().execute(json.dumps(b)) for b in bodies]
    assert _comparable([r for _, r in report.results]) == _comparable(alone)
    assert batched.snapshot() == single.snapshot()
    assert len(batched.inventory.calls) <= len(single.inventory.calls)


def test_prepare_batch_leaves_the_use_case_it_was_given_unchanged(estate: Estate) -> None:
    handle = estate.handler()
    prepared = prepare_batch(handle, [json.dumps(e) for e in _deleted_sgs(estate, 2)])
    assert handle.inventory is estate.inventory
    assert handle.store is estate.store
    assert isinstance(prepared.inventory, PrefetchingInventory)
    assert estate.inventory.calls == []


def test_a_name_two_events_of_the_batch_ask_about_costs_one_call(estate: Estate) -> None:
    # The namesake check asks Config by name; within one batch the answer is reused.
    estate.inventory.put(ACCOUNT, REGION, SG, "sg-9", name="web", deleted=False)
    inventory = PrefetchingInventory(estate.inventory)

    first = inventory.lookup_by_name(ACCOUNT, REGION, SG, "web")
    second = inventory.lookup_by_name(ACCOUNT, REGION, SG, "web")
    inventory.lookup_by_name(ACCOUNT, REGION, SG, "db")

    assert first == second
    assert [s.resource_id for s in first] == ["sg-9"]
    assert [c.resource_name for c in estate.inventory.name_calls] == ["web", "db"]
