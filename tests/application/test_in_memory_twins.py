"""The in-memory twins behave like the tables and the Config API they stand in for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ListEventSource,
    SystemClock,
)
from adapters.in_memory.inventory import InventoryCall, InventoryNameCall
from application.errors import ConflictError, TransientError
from application.ports import MAX_IDS_PER_CALL, Message, ResourceState
from domain.lifecycle import RecordUpdate, Trigger, decide
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionKind
from tests.application.estate import (
    ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SG,
    SIMPLE_ARN,
    SIMPLE_ID,
    VOLUME,
)

NOW = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
ROLE = "AWS::IAM::Role"


def _key(key: str, account: str = ACCOUNT, rule_id: int = 1) -> RecordKey:
    return RecordKey(account, rule_id, key)


def _update(record: ExceptionRecord, kind: ExceptionKind, confirmed: set[str]) -> RecordUpdate:
    decision = decide(
        record,
        kind,
        frozenset(confirmed),
        trigger=Trigger("e1"),
        now=NOW,
        retention_days=90,
        resource_type=VOLUME,
        rule_types=frozenset({VOLUME}),
    )
    assert isinstance(decision, RecordUpdate)
    return decision


class TestExceptionStore:
    def test_a_write_decided_from_the_current_state_is_applied_and_recorded(self) -> None:
        store = InMemoryExceptionStore()
        record = ExceptionRecord(_key("vol-1,vol-2"), REGION)
        store.add(record)
        update = _update(record, ExceptionKind.COMPOSITE, {"vol-1"})
        store.apply(update)
        stored = store.get(record.record_key)
        assert stored is not None
        assert stored.deleted_members == frozenset({"vol-1"})
        assert store.writes == [update]
        assert store.conflicts == 0

    def test_a_write_to_a_missing_record_is_a_conflict(self) -> None:
        store = InMemoryExceptionStore()
        update = _update(ExceptionRecord(_key("sg-1"), REGION), ExceptionKind.SIMPLE_ID, {"sg-1"})
        with pytest.raises(ConflictError):
            store.apply(update)
        assert store.get(update.record_key) is None
        assert store.conflicts == 1

    def test_a_closed_record_is_never_written_again(self) -> None:
        store = InMemoryExceptionStore()
        open_record = ExceptionRecord(_key("sg-1"), REGION)
        update = _update(open_record, ExceptionKind.SIMPLE_ID, {"sg-1"})
        closed = ExceptionRecord(_key("sg-1"), REGION, status=CLOSED_STATUS, ttl=7)
        store.add(closed)
        with pytest.raises(ConflictError):
            store.apply(update)
        assert store.get(closed.record_key) == closed
        assert store.writes == []

    def test_a_write_decided_before_another_member_was_recorded_is_a_conflict(self) -> None:
        store = InMemoryExceptionStore()
        record = ExceptionRecord(_key("vol-1,vol-2,vol-3"), REGION)
        stale = _update(record, ExceptionKind.COMPOSITE, {"vol-1"})
        store.add(ExceptionRecord(record.record_key, REGION, deleted_members=frozenset({"vol-2"})))
        with pytest.raises(ConflictError):
            store.apply(stale)
        stored = store.get(record.record_key)
        assert stored is not None
        assert stored.deleted_members == frozenset({"vol-2"})

    def test_a_write_adding_a_member_already_recorded_is_a_conflict(self) -> None:
        store = InMemoryExceptionStore()
        decided_from = ExceptionRecord(
            _key("vol-1,vol-2,vol-3"), REGION, deleted_members=frozenset({"vol-1"})
        )
        update = _update(decided_from, ExceptionKind.COMPOSITE, {"vol-2"})
        # The stored set has the same size but holds vol-2: only the overlap check sees it.
        store.add(
            ExceptionRecord(_key("vol-1,vol-2,vol-3"), REGION, deleted_members=frozenset({"vol-2"}))
        )
        with pytest.raises(ConflictError):
            store.apply(update)
        assert store.writes == []

    def test_list_for_reads_one_account_and_rule_and_counts_queries(self) -> None:
        store = InMemoryExceptionStore()
        mine = [ExceptionRecord(_key(k), REGION) for k in ("b", "a")]
        for record in [
            *mine,
            ExceptionRecord(_key("a", account=OTHER_ACCOUNT), REGION),
            ExceptionRecord(_key("a", rule_id=2), REGION),
        ]:
            store.add(record)
        listed = store.list_for(ACCOUNT, 1)
        assert [r.key for r in listed] == ["a", "b"]
        assert store.queries == 1

    def test_records_of_other_regions_are_listed_for_the_caller_to_filter(self) -> None:
        store = InMemoryExceptionStore()
        store.add(ExceptionRecord(_key("a"), OTHER_REGION))
        assert [r.region for r in store.list_for(ACCOUNT, 1)] == [OTHER_REGION]

    def test_scans_list_open_records_or_all_records(self) -> None:
        store = InMemoryExceptionStore()
        store.add(ExceptionRecord(_key("open"), REGION))
        store.add(ExceptionRecord(_key("closed"), REGION, status=CLOSED_STATUS))
        store.add(ExceptionRecord(_key("expired"), REGION, status="EXPIRED"))
        assert sorted(r.key for r in store.scan_open()) == ["expired", "open"]
        assert sorted(r.key for r in store.scan_all()) == ["closed", "expired", "open"]

    def test_add_replaces_a_record_with_the_same_key(self) -> None:
        store = InMemoryExceptionStore()
        store.add(ExceptionRecord(_key("a"), REGION))
        store.add(ExceptionRecord(_key("a"), OTHER_REGION))
        assert [r.region for r in store.scan_all()] == [OTHER_REGION]


class TestInventory:
    def test_lookup_reports_known_resources_and_omits_unknown_ones(self) -> None:
        inventory = InMemoryInventory()
        inventory.put(ACCOUNT, REGION, SG, "sg-1", name="web", deleted=True)
        inventory.put(ACCOUNT, REGION, SG, "sg-2")
        found = inventory.lookup(ACCOUNT, REGION, SG, ["sg-1", "sg-2", "sg-3"])
        assert found == {
            "sg-1": ResourceState(SG, "sg-1", "web", True),
            "sg-2": ResourceState(SG, "sg-2", None, False),
        }

    @pytest.mark.parametrize(
        ("account", "region", "resource_type"),
        [(OTHER_ACCOUNT, REGION, SG), (ACCOUNT, OTHER_REGION, SG), (ACCOUNT, REGION, VOLUME)],
    )
    def test_resources_are_known_per_account_region_and_type(
        self, account: str, region: str, resource_type: str
    ) -> None:
        inventory = InMemoryInventory()
        inventory.put(ACCOUNT, REGION, SG, "sg-1", deleted=True)
        assert inventory.lookup(account, region, resource_type, ["sg-1"]) == {}

    def test_lookup_is_split_into_calls_of_at_most_twenty_ids(self) -> None:
        inventory = InMemoryInventory()
        ids = [f"vol-{n}" for n in range(45)]
        inventory.lookup(ACCOUNT, REGION, VOLUME, ids)
        assert MAX_IDS_PER_CALL == 20
        assert [c.resource_ids for c in inventory.calls] == [
            tuple(ids[:20]),
            tuple(ids[20:40]),
            tuple(ids[40:]),
        ]
        assert all(
            c == InventoryCall(ACCOUNT, REGION, VOLUME, c.resource_ids) for c in inventory.calls
        )

    @pytest.mark.parametrize(("count", "calls"), [(1, 1), (20, 1), (21, 2), (40, 2), (41, 3)])
    def test_number_of_calls_at_the_boundaries(self, count: int, calls: int) -> None:
        inventory = InMemoryInventory()
        inventory.lookup(ACCOUNT, REGION, VOLUME, [f"vol-{n}" for n in range(count)])
        assert len(inventory.calls) == calls

    def test_repeated_ids_are_asked_once_in_first_seen_order(self) -> None:
        inventory = InMemoryInventory()
        inventory.lookup(ACCOUNT, REGION, VOLUME, ["b", "a", "b", "a"])
        assert inventory.calls == [InventoryCall(ACCOUNT, REGION, VOLUME, ("b", "a"))]

    def test_delete_marks_a_known_resource_deleted_and_keeps_its_name(self) -> None:
        inventory = InMemoryInventory()
        inventory.put(ACCOUNT, REGION, SG, "sg-1", name="web")
        inventory.delete(ACCOUNT, REGION, SG, "sg-1")
        assert inventory.lookup(ACCOUNT, REGION, SG, ["sg-1"])["sg-1"] == ResourceState(
            SG, "sg-1", "web", True
        )

    def test_deleting_an_unknown_resource_is_an_error(self) -> None:
        with pytest.raises(KeyError):
            InMemoryInventory().delete(ACCOUNT, REGION, SG, "sg-404")

    def test_a_configured_failure_is_a_transient_error_and_no_call_is_recorded(self) -> None:
        inventory = InMemoryInventory(failure="Throttling: rate exceeded")
        with pytest.raises(TransientError, match="Throttling: rate exceeded"):
            inventory.lookup(ACCOUNT, REGION, SG, ["sg-1"])
        assert inventory.calls == []

    def test_by_name_reports_every_resource_of_exactly_that_name_deleted_or_live(self) -> None:
        inventory = InMemoryInventory()
        inventory.put(ACCOUNT, REGION, ROLE, "AROAOLD", name="app-role", deleted=True)
        inventory.put(ACCOUNT, REGION, ROLE, "AROANEW", name="app-role")
        inventory.put(ACCOUNT, REGION, ROLE, "AROAOTHER", name="app-role-2", deleted=True)
        found = inventory.lookup_by_name(ACCOUNT, REGION, ROLE, "app-role")
        assert found == (
            ResourceState(ROLE, "AROAOLD", "app-role", True),
            ResourceState(ROLE, "AROANEW", "app-role", False),
        )
        assert inventory.name_calls == [InventoryNameCall(ACCOUNT, REGION, ROLE, "app-role")]
        assert inventory.calls == []  # the calls by ID are counted apart

    @pytest.mark.parametrize(
        ("account", "region", "resource_type"),
        [(OTHER_ACCOUNT, REGION, ROLE), (ACCOUNT, OTHER_REGION, ROLE), (ACCOUNT, REGION, SG)],
    )
    def test_by_name_is_per_account_region_and_type(
        self, account: str, region: str, resource_type: str
    ) -> None:
        inventory = InMemoryInventory()
        inventory.put(ACCOUNT, REGION, ROLE, "AROAOLD", name="app-role", deleted=True)
        assert inventory.lookup_by_name(account, region, resource_type, "app-role") == ()

    def test_by_name_fails_like_by_id_and_records_no_call(self) -> None:
        inventory = InMemoryInventory(failing_accounts={ACCOUNT: "AccessDenied: denied"})
        with pytest.raises(TransientError, match="AccessDenied"):
            inventory.lookup_by_name(ACCOUNT, REGION, ROLE, "app-role")
        assert inventory.name_calls == []
        assert inventory.lookup_by_name(OTHER_ACCOUNT, REGION, ROLE, "app-role") == ()


class TestRuleCatalog:
    def test_finds_rules_by_name_and_counts_lookups(self) -> None:
        catalog = InMemoryRuleCatalog()
        catalog.add(SIMPLE_ARN)
        catalog.add(SIMPLE_ID)
        assert catalog.find_by_name(SIMPLE_ID.name) == SIMPLE_ID
        assert catalog.find_by_name("unknown") is None
        assert catalog.lookups == 2
        assert catalog.get(SIMPLE_ARN.rule_id) == SIMPLE_ARN
        assert catalog.list_rules() == [SIMPLE_ID, SIMPLE_ARN]


class TestClocks:
    def test_fixed_clock_stands_still_until_advanced(self) -> None:
        clock = FixedClock(NOW)
        assert clock.now() == NOW
        clock.advance(timedelta(minutes=5))
        assert clock.now() == NOW + timedelta(minutes=5)

    def test_fixed_clock_refuses_a_naive_time(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            FixedClock(NOW.replace(tzinfo=None))

    def test_system_clock_is_utc(self) -> None:
        assert SystemClock().now().utcoffset() == timedelta(0)


class TestListEventSource:
    def test_acknowledged_messages_are_removed_and_the_rest_delivered_again(self) -> None:
        source = ListEventSource([Message("m-1", "a"), Message("m-2", "b")])
        assert [m.message_id for m in source.receive()] == ["m-1", "m-2"]
        source.acknowledge(["m-1", "m-9"])
        assert [m.message_id for m in source.receive()] == ["m-2"]
        assert source.acknowledged == ["m-1"]
