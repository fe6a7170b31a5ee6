"""The lifecycle transitions: close, record a member, or recognise a duplicate
(docs/behaviour.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from attrs import evolve
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.lifecycle import (
    TIMESTAMP_FORMAT,
    Duplicate,
    RecordUpdate,
    Trigger,
    apply_update,
    decide,
    timestamp,
    written_type,
)
from domain.outcomes import Outcome
from domain.records import (
    CLOSED_STATUS,
    ELM_AUTOMATION,
    Action,
    ExceptionRecord,
    HistoryEntry,
    RecordKey,
    split_members,
)
from domain.rules import ExceptionKind

NOW = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
ACCOUNT = "111122223333"
SG = "AWS::EC2::SecurityGroup"


def _record(key: str, **fields: object) -> ExceptionRecord:
    return ExceptionRecord(RecordKey(ACCOUNT, 7, key), "eu-west-1", **fields)  # type: ignore[arg-type]


def _decide(
    record: ExceptionRecord,
    kind: ExceptionKind,
    confirmed: set[str],
    *,
    trigger: Trigger | None = None,
    now: datetime = NOW,
    retention_days: int = 90,
) -> RecordUpdate | Duplicate:
    return decide(
        record,
        kind,
        frozenset(confirmed),
        trigger=trigger or Trigger("evt-1"),
        now=now,
        retention_days=retention_days,
        resource_type=SG,
        rule_types=frozenset({SG}),
    )


def _update(decision: RecordUpdate | Duplicate) -> RecordUpdate:
    assert isinstance(decision, RecordUpdate), decision
    return decision


class TestSimpleClose:
    @pytest.mark.parametrize("kind", [ExceptionKind.SIMPLE_ID, ExceptionKind.SIMPLE_ARN])
    def test_confirmed_key_closes_the_record(self, kind: ExceptionKind) -> None:
        update = _update(_decide(_record("sg-1"), kind, {"sg-1"}))
        assert update.outcome is Outcome.CLOSED
        assert update.closure is not None
        assert update.closure.status == CLOSED_STATUS == "RESOURCE_DELETED"
        assert update.last_modified_by == ELM_AUTOMATION == "ELM_AUTOMATION"
        assert update.resource_type == SG
        assert update.members_added == frozenset()
        assert update.expected_deleted_count == 0
        assert update.history == (HistoryEntry("evt-1", NOW, Action.CLOSED),)

    def test_ttl_is_close_time_plus_retention_days_in_integer_epoch_seconds(self) -> None:
        update = _update(_decide(_record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-1"}))
        assert update.closure is not None
        # 2026-06-02T10:15:30Z, 90 days after NOW.
        assert update.closure.ttl == 1780395330
        assert isinstance(update.closure.ttl, int)

    @pytest.mark.parametrize("days", [1, 30, 3650])
    def test_ttl_follows_the_retention_setting(self, days: int) -> None:
        update = _update(
            _decide(_record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-1"}, retention_days=days)
        )
        assert update.closure is not None
        assert update.closure.ttl == int((NOW + timedelta(days=days)).timestamp())

    def test_ttl_drops_fractions_of_a_second(self) -> None:
        now = NOW + timedelta(microseconds=999_999)
        update = _update(_decide(_record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-1"}, now=now))
        assert update.closure is not None
        assert update.closure.ttl == 1780395330

    def test_update_timestamp_is_month_day_year_and_24_hour_time(self) -> None:
        now = datetime(2026, 11, 5, 17, 4, 9, tzinfo=UTC)
        update = _update(_decide(_record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-1"}, now=now))
        assert update.update_timestamp == "11/05/2026 17:04:09"
        assert TIMESTAMP_FORMAT == "%m/%d/%Y %H:%M:%S"

    def test_an_aware_non_utc_time_gives_the_same_ttl(self) -> None:
        paris = NOW.astimezone(timezone(timedelta(hours=1)))
        update = _update(_decide(_record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-1"}, now=paris))
        assert update.closure is not None
        assert update.closure.ttl == 1780395330

    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            _decide(
                _record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-1"}, now=NOW.replace(tzinfo=None)
            )

    def test_unconfirmed_key_writes_nothing(self) -> None:
        decision = _decide(_record("sg-1"), ExceptionKind.SIMPLE_ID, {"sg-2"})
        assert isinstance(decision, Duplicate)
        assert decision.outcome is Outcome.DUPLICATE

    def test_closed_record_is_a_duplicate_and_keeps_its_ttl(self) -> None:
        closed = _record("sg-1", status=CLOSED_STATUS, ttl=123)
        decision = _decide(closed, ExceptionKind.SIMPLE_ID, {"sg-1"})
        assert decision == Duplicate(closed.record_key, "already closed")

    @pytest.mark.parametrize("status", ["ACTIVE", "EXPIRED", "PENDING", ""])
    def test_any_status_other_than_resource_deleted_is_open(self, status: str) -> None:
        update = _update(_decide(_record("sg-1", status=status), ExceptionKind.SIMPLE_ID, {"sg-1"}))
        assert update.outcome is Outcome.CLOSED


class TestComposite:
    def test_first_member_records_it_and_leaves_the_record_open(self) -> None:
        update = _update(_decide(_record("vol-1,vol-2,vol-3"), ExceptionKind.COMPOSITE, {"vol-2"}))
        assert update.outcome is Outcome.MEMBER_DELETED
        assert update.members_added == frozenset({"vol-2"})
        assert update.closure is None
        assert update.history == (HistoryEntry("evt-1", NOW, Action.MEMBER_DELETED, "vol-2"),)
        assert update.last_modified_by == ELM_AUTOMATION

    def test_last_member_closes_the_record(self) -> None:
        record = _record("vol-1,vol-2,vol-3", deleted_members=frozenset({"vol-1", "vol-3"}))
        update = _update(_decide(record, ExceptionKind.COMPOSITE, {"vol-2"}))
        assert update.outcome is Outcome.CLOSED
        assert update.expected_deleted_count == 2
        assert update.closure is not None
        assert update.closure.ttl == 1780395330
        assert update.history == (
            HistoryEntry("evt-1", NOW, Action.MEMBER_DELETED, "vol-2"),
            HistoryEntry("evt-1", NOW, Action.CLOSED),
        )

    def test_single_member_composite_closes_at_once(self) -> None:
        update = _update(_decide(_record("vol-1"), ExceptionKind.COMPOSITE, {"vol-1"}))
        assert update.outcome is Outcome.CLOSED
        assert update.members_added == frozenset({"vol-1"})

    def test_several_members_confirmed_together_are_recorded_in_key_order(self) -> None:
        update = _update(
            _decide(_record("vol-3,vol-1,vol-2"), ExceptionKind.COMPOSITE, {"vol-2", "vol-3"})
        )
        assert [e.member for e in update.history] == ["vol-3", "vol-2"]
        assert update.outcome is Outcome.MEMBER_DELETED

    def test_all_members_confirmed_together_close_with_one_entry_each(self) -> None:
        update = _update(
            _decide(_record("vol-1,vol-2"), ExceptionKind.COMPOSITE, {"vol-1", "vol-2"})
        )
        assert update.outcome is Outcome.CLOSED
        assert [(e.action, e.member) for e in update.history] == [
            (Action.MEMBER_DELETED, "vol-1"),
            (Action.MEMBER_DELETED, "vol-2"),
            (Action.CLOSED, None),
        ]

    def test_member_already_recorded_is_a_duplicate(self) -> None:
        record = _record("vol-1,vol-2", deleted_members=frozenset({"vol-1"}))
        decision = _decide(record, ExceptionKind.COMPOSITE, {"vol-1"})
        assert decision == Duplicate(record.record_key, "members already recorded")

    def test_confirmed_names_outside_the_key_are_ignored(self) -> None:
        decision = _decide(_record("vol-1,vol-2"), ExceptionKind.COMPOSITE, {"vol-9"})
        assert isinstance(decision, Duplicate)

    def test_members_are_trimmed_and_deduplicated(self) -> None:
        assert split_members(" vol-1 , vol-2,,vol-1, ") == ("vol-1", "vol-2")
        update = _update(_decide(_record("vol-1, vol-1"), ExceptionKind.COMPOSITE, {"vol-1"}))
        assert update.outcome is Outcome.CLOSED

    def test_closed_composite_is_a_duplicate(self) -> None:
        record = _record("vol-1,vol-2", status=CLOSED_STATUS)
        assert isinstance(_decide(record, ExceptionKind.COMPOSITE, {"vol-1"}), Duplicate)


class TestReconciledTrigger:
    def test_simple_close_by_the_sweep_is_recorded_as_reconciled(self) -> None:
        update = _update(
            _decide(
                _record("sg-1"),
                ExceptionKind.SIMPLE_ID,
                {"sg-1"},
                trigger=Trigger("sweep-1", reconciled=True),
            )
        )
        assert update.outcome is Outcome.CLOSED
        assert update.history == (HistoryEntry("sweep-1", NOW, Action.RECONCILED),)

    def test_composite_members_and_close_by_the_sweep_are_reconciled(self) -> None:
        update = _update(
            _decide(
                _record("vol-1,vol-2"),
                ExceptionKind.COMPOSITE,
                {"vol-1", "vol-2"},
                trigger=Trigger("sweep-1", reconciled=True),
            )
        )
        assert [(e.event_id, e.action, e.member) for e in update.history] == [
            ("sweep-1", Action.RECONCILED, "vol-1"),
            ("sweep-1", Action.RECONCILED, "vol-2"),
            ("sweep-1", Action.RECONCILED, None),
        ]
        # History identities stay unique within one update.
        assert len({e.identity for e in update.history}) == len(update.history)


class TestApplyUpdate:
    def test_closing_sets_every_closing_attribute_and_keeps_the_rest(self) -> None:
        entry = HistoryEntry("old", NOW - timedelta(days=1), Action.MEMBER_DELETED, "x")
        record = _record("sg-1", history=(entry,))
        update = _update(_decide(record, ExceptionKind.SIMPLE_ID, {"sg-1"}))
        after = apply_update(record, update)
        assert after.is_closed
        assert after.status == CLOSED_STATUS
        assert after.ttl == 1780395330
        assert after.resource_type == SG
        assert after.last_modified_by == ELM_AUTOMATION
        assert after.update_timestamp == "03/04/2026 10:15:30"
        assert after.history == (entry, HistoryEntry("evt-1", NOW, Action.CLOSED))
        assert after.region == record.region
        assert after.record_key == record.record_key

    def test_recording_a_member_leaves_the_record_open_without_ttl(self) -> None:
        record = _record("vol-1,vol-2", status="ACTIVE")
        after = apply_update(record, _update(_decide(record, ExceptionKind.COMPOSITE, {"vol-1"})))
        assert not after.is_closed
        assert after.status == "ACTIVE"
        assert after.ttl is None
        assert after.deleted_members == frozenset({"vol-1"})
        assert after.open_members() == ("vol-2",)

    def test_members_accumulate_across_updates_until_closed(self) -> None:
        record = _record("vol-1,vol-2,vol-3")
        for number, member in enumerate(["vol-3", "vol-1", "vol-2"]):
            decision = _decide(
                record, ExceptionKind.COMPOSITE, {member}, trigger=Trigger(f"e{number}")
            )
            record = apply_update(record, _update(decision))
        assert record.is_closed
        assert record.deleted_members == frozenset({"vol-1", "vol-2", "vol-3"})
        assert [e.action for e in record.history] == [
            Action.MEMBER_DELETED,
            Action.MEMBER_DELETED,
            Action.MEMBER_DELETED,
            Action.CLOSED,
        ]


def test_record_key_refuses_a_bad_account() -> None:
    with pytest.raises(ValueError, match="account id must be 12 digits"):
        RecordKey("1234", 1, "sg-1")
    assert RecordKey(ACCOUNT, 7, "sg-1").partition_key == "111122223333_7"


def test_records_are_values() -> None:
    record = _record("sg-1")
    assert evolve(record, status="ACTIVE") == record


class TestWrittenType:
    """The `ResourceType` a write may set: never one that disagrees with the record's."""

    VOLUME = "AWS::EC2::Volume"

    def test_a_simple_record_gets_the_deleted_resources_type(self) -> None:
        assert written_type(_record("sg-1"), ExceptionKind.SIMPLE_ID, SG, {SG, self.VOLUME}) == SG

    def test_a_typed_record_keeps_its_type(self) -> None:
        record = _record("sg-1", resource_type=SG)
        assert written_type(record, ExceptionKind.COMPOSITE, SG, {SG, self.VOLUME}) == SG

    def test_a_type_that_disagrees_with_the_records_is_never_written(self) -> None:
        record = _record("sg-1", resource_type=self.VOLUME)
        assert written_type(record, ExceptionKind.SIMPLE_ID, SG, {SG}) is None

    @pytest.mark.parametrize("rule_types", [set(), {SG, "AWS::EC2::Volume"}, {"AWS::EC2::Volume"}])
    def test_a_composite_whose_members_may_differ_gets_none(self, rule_types: set[str]) -> None:
        assert written_type(_record("a,b"), ExceptionKind.COMPOSITE, SG, rule_types) is None

    def test_a_composite_under_a_rule_of_one_type_gets_it(self) -> None:
        assert written_type(_record("a,b"), ExceptionKind.COMPOSITE, SG, {SG}) == SG


@settings(max_examples=300)
@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_the_written_timestamp_is_strftimes_text_for_any_moment(now: datetime) -> None:
    """`UpdateTimestamp` is formatted field by field; it must read as strftime would."""
    assert timestamp(now) == now.strftime(TIMESTAMP_FORMAT)


def test_a_decision_stamps_the_record_with_the_moment_it_was_made() -> None:
    update = decide(
        _record("sg-1"),
        ExceptionKind.SIMPLE_ID,
        frozenset({"sg-1"}),
        trigger=Trigger("e-1"),
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        retention_days=90,
        resource_type=SG,
        rule_types=(SG,),
    )

    assert isinstance(update, RecordUpdate)
    assert update.update_timestamp == "01/02/2026 03:04:05"
