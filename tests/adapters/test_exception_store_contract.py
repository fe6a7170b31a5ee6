"""One contract for the `ExceptionStore` port, run on the in-memory twin and on DynamoDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from attrs import define, evolve

from adapters.aws import DynamoExceptionStore
from adapters.in_memory import InMemoryExceptionStore
from application.errors import ConflictError
from application.ports import ExceptionStore
from domain.lifecycle import Closure, RecordUpdate, Reopening
from domain.outcomes import Outcome
from domain.records import (
    CLOSED_STATUS,
    ELM_AUTOMATION,
    Action,
    ExceptionRecord,
    HistoryEntry,
    RecordKey,
)

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
AT = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
TTL = 1780654530


@pytest.fixture(params=["in-memory", "dynamo"])
def store(request: pytest.FixtureRequest) -> ExceptionStore:
    if request.param == "in-memory":
        return InMemoryExceptionStore()
    dynamo: DynamoExceptionStore = request.getfixturevalue("dynamo_store")
    return dynamo


def record(
    key: str,
    *,
    account: str = ACCOUNT,
    rule_id: int = 7,
    region: str = "eu-west-1",
    status: str = "ACTIVE",
    deleted: frozenset[str] = frozenset(),
    history: tuple[HistoryEntry, ...] = (),
    resource_type: str | None = "AWS::EC2::Volume",
) -> ExceptionRecord:
    return ExceptionRecord(
        RecordKey(account, rule_id, key),
        region=region,
        status=status,
        resource_type=resource_type,
        deleted_members=deleted,
        history=history,
    )


def member_update(
    target: ExceptionRecord, added: set[str], *, expected: int | None = None, close: bool = False
) -> RecordUpdate:
    action = Action.CLOSED if close else Action.MEMBER_DELETED
    return RecordUpdate(
        record_key=target.record_key,
        outcome=Outcome.CLOSED if close else Outcome.MEMBER_DELETED,
        expected_deleted_count=len(target.deleted_members) if expected is None else expected,
        members_added=frozenset(added),
        history=tuple(HistoryEntry("evt-1", AT, action, m) for m in sorted(added)),
        resource_type="AWS::EC2::Volume",
        last_modified_by=ELM_AUTOMATION,
        update_timestamp="03/04/2026 10:15:30",
        closure=Closure(ttl=TTL) if close else None,
    )


def close_update(
    target: ExceptionRecord, resource_type: str | None = "AWS::EC2::SecurityGroup"
) -> RecordUpdate:
    return RecordUpdate(
        record_key=target.record_key,
        outcome=Outcome.CLOSED,
        expected_deleted_count=len(target.deleted_members),
        members_added=frozenset(),
        history=(HistoryEntry("evt-9", AT, Action.CLOSED),),
        resource_type=resource_type,
        last_modified_by=ELM_AUTOMATION,
        update_timestamp="03/04/2026 10:15:30",
        closure=Closure(ttl=TTL),
    )


def test_list_for_returns_only_the_account_and_rule_asked_for(store: ExceptionStore) -> None:
    wanted = [record("sg-1"), record("sg-2", region="us-east-1")]
    for r in [
        *wanted,
        record("sg-3", account=OTHER_ACCOUNT),
        record("sg-4", rule_id=8),
        record("sg-5", rule_id=70),
    ]:
        store.add(r)

    found = store.list_for(ACCOUNT, 7)

    assert sorted(found, key=lambda r: r.key) == wanted


def test_list_for_an_unknown_partition_is_empty(store: ExceptionStore) -> None:
    store.add(record("sg-1"))

    assert store.list_for(OTHER_ACCOUNT, 7) == []


def test_get_returns_the_record_as_added(store: ExceptionStore) -> None:
    original = record(
        "vol-1,vol-2",
        deleted=frozenset({"vol-1"}),
        history=(HistoryEntry("evt-0", AT, Action.MEMBER_DELETED, "vol-1"),),
    )
    store.add(original)

    assert store.get(original.record_key) == original


def test_get_of_a_missing_record_is_none(store: ExceptionStore) -> None:
    assert store.get(RecordKey(ACCOUNT, 7, "sg-404")) is None


def test_apply_closes_a_simple_record_with_an_integer_ttl(store: ExceptionStore) -> None:
    target = record("sg-1", resource_type=None)
    store.add(target)

    store.apply(close_update(target))

    closed = store.get(target.record_key)
    assert closed is not None
    assert closed.status == CLOSED_STATUS
    assert closed.ttl == TTL
    assert isinstance(closed.ttl, int)
    assert closed.resource_type == "AWS::EC2::SecurityGroup"
    assert closed.last_modified_by == ELM_AUTOMATION
    assert closed.update_timestamp == "03/04/2026 10:15:30"
    assert closed.history == (HistoryEntry("evt-9", AT, Action.CLOSED),)


def test_apply_appends_history_after_existing_entries(store: ExceptionStore) -> None:
    earlier = HistoryEntry("evt-0", AT, Action.MEMBER_DELETED, "vol-1")
    target = record("vol-1,vol-2,vol-3", deleted=frozenset({"vol-1"}), history=(earlier,))
    store.add(target)

    store.apply(member_update(target, {"vol-2"}))

    after = store.get(target.record_key)
    assert after is not None
    assert after.history == (earlier, HistoryEntry("evt-1", AT, Action.MEMBER_DELETED, "vol-2"))
    assert after.deleted_members == {"vol-1", "vol-2"}
    assert after.status == "ACTIVE"
    assert after.ttl is None


def test_apply_records_the_first_member_of_a_composite(store: ExceptionStore) -> None:
    target = record("vol-1,vol-2")
    store.add(target)

    store.apply(member_update(target, {"vol-2"}))

    after = store.get(target.record_key)
    assert after is not None
    assert after.deleted_members == {"vol-2"}
    assert after.history == (HistoryEntry("evt-1", AT, Action.MEMBER_DELETED, "vol-2"),)


def test_apply_adds_the_last_member_and_closes_in_one_write(store: ExceptionStore) -> None:
    target = record("vol-1,vol-2", deleted=frozenset({"vol-1"}))
    store.add(target)

    store.apply(member_update(target, {"vol-2"}, close=True))

    after = store.get(target.record_key)
    assert after is not None
    assert after.deleted_members == {"vol-1", "vol-2"}
    assert after.status == CLOSED_STATUS
    assert after.ttl == TTL


def test_apply_to_a_closed_record_conflicts_and_keeps_its_ttl(store: ExceptionStore) -> None:
    target = record("sg-1", resource_type=None)
    store.add(target)
    store.apply(close_update(target))

    with pytest.raises(ConflictError):
        store.apply(evolve(close_update(target), closure=Closure(ttl=TTL + 86400)))

    after = store.get(target.record_key)
    assert after is not None
    assert after.ttl == TTL
    assert len(after.history) == 1


def test_apply_conflicts_when_the_deleted_count_changed(store: ExceptionStore) -> None:
    target = record("vol-1,vol-2,vol-3", deleted=frozenset({"vol-1"}))
    store.add(target)

    with pytest.raises(ConflictError):
        store.apply(member_update(target, {"vol-3"}, expected=0))
    with pytest.raises(ConflictError):
        store.apply(member_update(target, {"vol-3"}, expected=2))

    assert store.get(target.record_key) == target


def test_apply_conflicts_when_a_member_is_already_recorded(store: ExceptionStore) -> None:
    target = record("vol-1,vol-2,vol-3", deleted=frozenset({"vol-1", "vol-2"}))
    store.add(target)

    with pytest.raises(ConflictError):
        store.apply(member_update(target, {"vol-2", "vol-3"}))

    assert store.get(target.record_key) == target


def test_apply_to_a_missing_record_conflicts_and_creates_nothing(store: ExceptionStore) -> None:
    ghost = record("sg-404")

    with pytest.raises(ConflictError):
        store.apply(close_update(ghost))

    assert store.get(ghost.record_key) is None


def test_scan_open_yields_only_open_records(store: ExceptionStore) -> None:
    open_records = [record(f"sg-{i}") for i in range(5)] + [record("x", status="EXPIRED")]
    for r in [*open_records, record("sg-closed", status=CLOSED_STATUS)]:
        store.add(r)

    found = list(store.scan_open(page_size=2))

    assert sorted(found, key=lambda r: r.key) == sorted(open_records, key=lambda r: r.key)


def test_scan_all_yields_every_record(store: ExceptionStore) -> None:
    everything = [record("sg-1"), record("sg-2", status=CLOSED_STATUS), record("a", rule_id=9)]
    for r in everything:
        store.add(r)

    assert sorted(store.scan_all(), key=lambda r: (r.rule_id, r.key)) == sorted(
        everything, key=lambda r: (r.rule_id, r.key)
    )


def test_apply_without_a_type_leaves_the_records_type_alone(store: ExceptionStore) -> None:
    # A composite under a rule of several types: the closing write sets no ResourceType.
    target = record("vol-1", resource_type=None)
    store.add(target)

    store.apply(close_update(target, resource_type=None))

    closed = store.get(target.record_key)
    assert closed is not None
    assert closed.status == CLOSED_STATUS
    assert closed.resource_type is None


def test_apply_never_overwrites_a_type_the_record_has(store: ExceptionStore) -> None:
    # Someone typed the record between ELM's read and its write: the write is a conflict,
    # decided again from what the record now says.
    target = record("sg-1", resource_type="AWS::EC2::Volume")
    store.add(target)

    with pytest.raises(ConflictError):
        store.apply(close_update(target, resource_type="AWS::EC2::SecurityGroup"))

    after = store.get(target.record_key)
    assert after is not None
    assert after.status == "ACTIVE"
    assert after.resource_type == "AWS::EC2::Volume"


# --- reading many records at once: the sweep's chunks ---------------------------------


@define
class Counted:
    """A store and the number of batch reads it has made so far."""

    store: ExceptionStore
    batch_reads: Callable[[], int]


@pytest.fixture(params=["in-memory", "dynamo"])
def counted(request: pytest.FixtureRequest) -> Counted:
    """The store, with its batch reads counted: the twin's counter, or DynamoDB's
    `BatchGetItem` calls as botocore makes them (moto)."""
    if request.param == "in-memory":
        twin = InMemoryExceptionStore()
        return Counted(twin, lambda: twin.batch_gets)
    dynamo: DynamoExceptionStore = request.getfixturevalue("dynamo_store")
    log = request.getfixturevalue("call_log")
    return Counted(dynamo, lambda: int(log.count("BatchGetItem")))


def test_get_many_returns_the_records_that_exist_and_leaves_out_the_others(
    counted: Counted,
) -> None:
    present = [
        record("vol-1,vol-2", deleted=frozenset({"vol-1"})),
        record("sg-2", account=OTHER_ACCOUNT, rule_id=8, status=CLOSED_STATUS),
    ]
    for r in present:
        counted.store.add(r)
    missing = RecordKey(ACCOUNT, 7, "sg-404")

    found = counted.store.get_many([present[0].record_key, missing, present[1].record_key])

    assert found == {r.record_key: r for r in present}
    assert counted.batch_reads() == 1


def test_get_many_reads_more_than_a_hundred_keys_in_requests_of_a_hundred(
    counted: Counted,
) -> None:
    """DynamoDB reads at most 100 items a `BatchGetItem` call and refuses more with a
    ValidationException ("BatchGetItem", Amazon DynamoDB API Reference,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html);
    moto refuses them too."""
    records = [record(f"sg-{n:03d}", rule_id=7 + n % 3) for n in range(250)]
    for r in records:
        counted.store.add(r)

    found = counted.store.get_many([r.record_key for r in records])

    assert found == {r.record_key: r for r in records}
    assert counted.batch_reads() == 3


def test_get_many_reads_a_key_given_twice_once(counted: Counted) -> None:
    """`BatchGetItem` refuses a request naming a key twice ("Provided list of item keys
    contains duplicates", a ValidationException; moto refuses it too)."""
    records = [record(f"sg-{n:03d}") for n in range(99)]
    for r in records:
        counted.store.add(r)
    keys = [r.record_key for r in records]

    found = counted.store.get_many([*keys, *reversed(keys[:50]), RecordKey(ACCOUNT, 7, "sg-x")])

    assert found == {r.record_key: r for r in records}
    assert counted.batch_reads() == 1  # 100 distinct keys: one request


def test_get_many_of_no_keys_reads_nothing(counted: Counted) -> None:
    counted.store.add(record("sg-1"))

    assert counted.store.get_many([]) == {}
    assert counted.batch_reads() == 0


# --- re-opening: `elm exceptions reopen` --------------------------------------------------


@pytest.fixture(params=["in-memory", "dynamo"])
def admin_store(request: pytest.FixtureRequest) -> InMemoryExceptionStore | DynamoExceptionStore:
    if request.param == "in-memory":
        return InMemoryExceptionStore()
    dynamo: DynamoExceptionStore = request.getfixturevalue("dynamo_store")
    return dynamo


def test_reopen_removes_elms_ttl_and_deleted_members_and_keeps_history(
    admin_store: InMemoryExceptionStore | DynamoExceptionStore,
) -> None:
    # A record ELM closed still carries its TTL: re-opened as it was, DynamoDB would delete
    # an active exception when the TTL passes.
    target = record("vol-1,vol-2", deleted=frozenset({"vol-1"}))
    admin_store.add(target)
    admin_store.apply(member_update(target, {"vol-2"}, close=True))
    closed = admin_store.get(target.record_key)
    assert closed is not None
    assert closed.ttl == TTL

    admin_store.reopen(Reopening.of(target.record_key, status="ACTIVE", by="elm-cli-ops", now=AT))

    after = admin_store.get(target.record_key)
    assert after is not None
    assert after.status == "ACTIVE"
    assert after.ttl is None
    assert after.deleted_members == frozenset()
    assert after.last_modified_by == "elm-cli-ops"
    assert after.update_timestamp == AT.strftime("%m/%d/%Y %H:%M:%S")
    assert after.history == closed.history
    assert after.resource_type == "AWS::EC2::Volume"


def test_reopen_of_a_missing_record_conflicts_and_creates_nothing(
    admin_store: InMemoryExceptionStore | DynamoExceptionStore,
) -> None:
    missing = RecordKey(ACCOUNT, 7, "sg-404")

    with pytest.raises(ConflictError):
        admin_store.reopen(Reopening.of(missing, status="ACTIVE", by="elm-cli-ops", now=AT))

    assert admin_store.get(missing) is None


@pytest.mark.parametrize("status", ["", CLOSED_STATUS])
def test_a_reopening_never_has_a_closed_status(status: str) -> None:
    with pytest.raises(ValueError, match="status"):
        Reopening.of(RecordKey(ACCOUNT, 7, "sg-1"), status=status, by="x", now=AT)
