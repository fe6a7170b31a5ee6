"""HandleComplianceChange on the in-memory twins: every outcome of docs/behaviour.md, and
what it writes."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.in_memory.inventory import InventoryCall
from domain.outcomes import Outcome
from domain.records import (
    CLOSED_STATUS,
    ELM_AUTOMATION,
    Action,
    HistoryEntry,
)
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import compliance_change_event
from tests.application.estate import (
    ACCOUNT,
    BUCKET,
    COMPOSITE_ARN,
    COMPOSITE_ID,
    DB,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SG,
    SIMPLE_ARN,
    SIMPLE_ID,
    VOLUME,
    Estate,
    event,
)
from tests.application.racing import (
    ConflictingStore,
    FailingRuleCatalog,
    FailingStore,
    RacingStore,
    VanishingStore,
    another_writer_closes,
    another_writer_records,
)

EVENTS = Path(__file__).parent.parent / "events"
TTL_90_DAYS = 1780395330  # the FixedClock's 2026-03-04T10:15:30Z plus 90 days


def _sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def _assert_untouched(estate: Estate, before: list[Any]) -> None:
    assert estate.store.writes == []
    assert estate.snapshot() == before


class TestInvalid:
    @pytest.mark.parametrize("body", ["not json", "{", "", '{"id": "x",}'])
    def test_body_that_is_not_json_is_invalid(self, estate: Estate, body: str) -> None:
        result = estate.run(body)
        assert result.outcome is Outcome.INVALID
        assert result.reason.startswith("body is not JSON: ")
        assert "\n" not in result.reason
        assert result.outcome.fails_record

    def test_deeply_nested_body_is_invalid_not_a_crash(self, estate: Estate) -> None:
        result = estate.run("[" * 100_000 + "]" * 100_000)
        assert result.outcome is Outcome.INVALID

    def test_json_that_is_not_an_object_is_invalid(self, estate: Estate) -> None:
        result = estate.run("[1, 2]")
        assert result.outcome is Outcome.INVALID
        assert result.reason == "event is not a JSON object (got array)"

    def test_event_missing_its_resource_id_is_invalid_and_keeps_the_event_id(
        self, estate: Estate
    ) -> None:
        sample = _sample("malformed-missing-resource-id.json")
        result = estate.run(json.dumps(sample))
        assert result.outcome is Outcome.INVALID
        assert result.reason == "detail.resourceId is missing"
        assert result.event_id == sample["id"]

    def test_invalid_event_reads_and_writes_nothing(self, estate: Estate) -> None:
        bad = event(SIMPLE_ID, SG, "sg-1")
        bad["detail"]["awsAccountId"] = "1234"
        result = estate.run(bad)
        assert result.outcome is Outcome.INVALID
        assert result.reason == "detail.awsAccountId must be 12 digits (got '1234')"
        assert estate.rules.lookups == 0
        assert estate.store.queries == 0
        assert estate.inventory.calls == []

    def test_invalid_event_with_a_non_string_id_reports_no_event_id(self, estate: Estate) -> None:
        result = estate.run({"id": 5, "detail": {}})
        assert result.outcome is Outcome.INVALID
        assert result.event_id is None


class TestIgnored:
    def test_change_that_is_not_a_deletion_is_ignored(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-0a1b2c3d4e5f60718")
        before = estate.snapshot()
        result = estate.run(_sample("not-a-deletion.json"))
        assert result.outcome is Outcome.IGNORED
        assert result.reason == "not a deletion event"
        assert not result.outcome.fails_record
        assert estate.rules.lookups == 0
        _assert_untouched(estate, before)

    def test_unknown_rule_is_ignored(self, estate: Estate) -> None:
        result = estate.run(_sample("deleted-simple-id.json"))
        assert result.outcome is Outcome.IGNORED
        assert result.reason == "rule not in the rules table"
        assert result.rule_name == "prod-sg-no-open-ingress"
        assert estate.store.queries == 0
        assert estate.inventory.calls == []

    def test_rule_outside_the_environments_prefix_is_ignored(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"), rule_prefix="DEV-")
        assert result.outcome is Outcome.IGNORED
        assert estate.store.writes == []

    def test_rule_inside_the_environments_prefix_is_handled(self, estate: Estate) -> None:
        dev_rule = Rule(
            9, "DEV-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE
        )
        estate.rules.add(dev_rule)
        key = estate.exception(dev_rule, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(dev_rule, SG, "sg-1"), rule_prefix="DEV-")
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed


class TestRejected:
    def test_forged_envelope_account_is_rejected_before_anything_is_read(
        self, estate: Estate
    ) -> None:
        estate.rules.add(
            Rule(8, "prod-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
        )
        result = estate.run(_sample("forged-account.json"))
        assert result.outcome is Outcome.REJECTED
        assert result.reason == (
            "envelope account '999988887777' disagrees with detail.awsAccountId '111122223333'"
        )
        assert not result.outcome.fails_record
        assert estate.rules.lookups == 0
        assert estate.store.queries == 0
        assert estate.inventory.calls == []

    def test_forged_envelope_region_is_rejected(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        forged = event(SIMPLE_ID, SG, "sg-1")
        forged["region"] = OTHER_REGION
        result = estate.run(forged)
        assert result.outcome is Outcome.REJECTED
        assert result.reason == (
            "envelope region 'us-east-1' disagrees with detail.awsRegion 'eu-west-1'"
        )
        assert estate.inventory.calls == []
        assert estate.store.writes == []

    def test_account_outside_the_allow_list_is_rejected(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(
            event(SIMPLE_ID, SG, "sg-1"), allowed_accounts=frozenset({OTHER_ACCOUNT})
        )
        assert result.outcome is Outcome.REJECTED
        assert result.reason == "account 111122223333 is not in ELM_ALLOWED_ACCOUNTS"
        assert estate.rules.lookups == 0
        assert estate.inventory.calls == []
        assert estate.store.writes == []

    def test_account_on_the_allow_list_is_handled(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(
            event(SIMPLE_ID, SG, "sg-1"), allowed_accounts=frozenset({ACCOUNT, OTHER_ACCOUNT})
        )
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed

    def test_event_without_envelope_fields_is_judged_on_its_detail(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        bare = event(SIMPLE_ID, SG, "sg-1")
        del bare["account"], bare["region"]
        assert estate.run(bare).outcome is Outcome.CLOSED
        assert estate.record(key).is_closed


class TestNoMatch:
    def test_no_exception_under_the_account_and_rule(self, estate: Estate) -> None:
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.NO_MATCH
        assert result.reason == "no exception for this account, rule and region"
        assert estate.inventory.calls == []

    def test_exception_in_another_region_is_not_a_candidate(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1", region=OTHER_REGION)
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed
        assert estate.store.writes == []

    @pytest.mark.parametrize(
        ("key", "resource_id"),
        [("db", "db-prod"), ("db-prod", "db"), ("sg-1", "sg-10"), ("SG-1", "sg-1")],
    )
    def test_near_miss_id_does_not_match(self, estate: Estate, key: str, resource_id: str) -> None:
        estate.exception(SIMPLE_ID, key)
        estate.deleted(SG, resource_id)
        before = estate.snapshot()
        result = estate.run(event(SIMPLE_ID, SG, resource_id))
        assert result.outcome is Outcome.NO_MATCH
        assert result.reason == "no exception names the resource"
        _assert_untouched(estate, before)

    def test_unmatched_open_exception_asks_config_for_the_resource_name_once(
        self, estate: Estate
    ) -> None:
        estate.exception(SIMPLE_ID, "sg-other")
        estate.deleted(SG, "sg-1", name="web")
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.NO_MATCH
        assert estate.inventory.calls == [InventoryCall(ACCOUNT, REGION, SG, ("sg-1",))]

    def test_only_closed_exceptions_need_no_config_call(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-other", status=CLOSED_STATUS)
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.NO_MATCH
        assert estate.inventory.calls == []

    def test_exception_under_another_rule_is_not_a_candidate(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ARN, "sg-1")
        estate.deleted(SG, "sg-1")
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_record_that_vanishes_during_the_write_is_no_match(self, estate: Estate) -> None:
        estate.store = VanishingStore()
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.NO_MATCH
        assert result.reason == "the matching exception was removed before the write"
        assert estate.store.writes == []


class TestNotConfirmed:
    def test_resource_config_reports_as_existing_is_not_closed(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.existing(SG, "sg-1")
        before = estate.snapshot()
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.NOT_CONFIRMED
        assert result.reason == "AWS Config reports the resource still exists"
        assert not result.outcome.fails_record
        assert not estate.record(key).is_closed
        _assert_untouched(estate, before)

    def test_resource_config_does_not_report_is_not_closed(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        before = estate.snapshot()
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.NOT_CONFIRMED
        assert result.reason == "AWS Config does not report the resource"
        _assert_untouched(estate, before)

    @pytest.mark.parametrize(
        ("account", "region", "resource_type"),
        [(OTHER_ACCOUNT, REGION, SG), (ACCOUNT, OTHER_REGION, SG), (ACCOUNT, REGION, VOLUME)],
    )
    def test_deletion_elsewhere_does_not_confirm(
        self, estate: Estate, account: str, region: str, resource_type: str
    ) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(resource_type, "sg-1", account=account, region=region)
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.NOT_CONFIRMED
        assert estate.store.writes == []

    def test_composite_member_still_existing_records_nothing(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.existing(VOLUME, "vol-1")
        estate.deleted(VOLUME, "vol-2")
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1"))
        assert result.outcome is Outcome.NOT_CONFIRMED
        # vol-2's deletion is not recorded on the back of an unconfirmed event.
        assert estate.record(key).deleted_members == frozenset()


class TestSimpleClose:
    def test_confirmed_deletion_closes_the_id_exception(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1", status="ACTIVE")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1", event_id="evt-1"))
        assert result.outcome is Outcome.CLOSED
        assert result.reason == "deletion confirmed by AWS Config; exception was closed"
        assert not result.outcome.fails_record
        record = estate.record(key)
        assert record.status == CLOSED_STATUS
        assert record.ttl == TTL_90_DAYS
        assert record.last_modified_by == ELM_AUTOMATION
        assert record.update_timestamp == "03/04/2026 10:15:30"
        assert record.resource_type == SG
        assert record.history == (HistoryEntry("evt-1", estate.clock.now(), Action.CLOSED),)
        assert len(estate.store.writes) == 1
        assert [(r.record_key, r.outcome) for r in result.records] == [(key, Outcome.CLOSED)]

    def test_result_names_the_event_for_the_log_line(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1", event_id="evt-9"))
        assert (
            result.event_id,
            result.account_id,
            result.region,
            result.rule_name,
            result.resource_type,
            result.resource_id,
            result.dry_run,
        ) == ("evt-9", ACCOUNT, REGION, SIMPLE_ID.name, SG, "sg-1", False)

    def test_retention_days_set_the_ttl(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        estate.run(event(SIMPLE_ID, SG, "sg-1"), retention_days=7)
        assert estate.record(key).ttl == int(estate.clock.now().timestamp()) + 7 * 86400

    def test_exception_keyed_by_the_resource_name_closes(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "web-sg")
        estate.deleted(SG, "sg-1", name="web-sg")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed
        # The name lookup's answer is reused: one Config call in all.
        assert estate.inventory.calls == [InventoryCall(ACCOUNT, REGION, SG, ("sg-1",))]

    def test_a_record_keyed_by_name_closes_beside_one_keyed_by_id(self, estate: Estate) -> None:
        # The same role registered twice under one rule: once by its role ID, once by name.
        by_id = estate.exception(SIMPLE_ID, "AROAEXAMPLEOLDROLE01")
        by_name = estate.exception(SIMPLE_ID, "app-role")
        estate.deleted("AWS::IAM::Role", "AROAEXAMPLEOLDROLE01", name="app-role")
        result = estate.run(event(SIMPLE_ID, "AWS::IAM::Role", "AROAEXAMPLEOLDROLE01"))
        assert result.outcome is Outcome.CLOSED
        assert {r.record_key for r in result.records} == {by_id, by_name}
        assert estate.record(by_id).is_closed
        assert estate.record(by_name).is_closed
        assert len(estate.inventory.calls) == 1

    def test_a_repeated_event_closes_a_name_record_left_open_beside_a_closed_id_record(
        self, estate: Estate
    ) -> None:
        by_id = estate.exception(SIMPLE_ID, "AROAEXAMPLEOLDROLE01", status=CLOSED_STATUS)
        by_name = estate.exception(SIMPLE_ID, "app-role")
        estate.deleted("AWS::IAM::Role", "AROAEXAMPLEOLDROLE01", name="app-role")
        result = estate.run(event(SIMPLE_ID, "AWS::IAM::Role", "AROAEXAMPLEOLDROLE01"))
        assert result.outcome is Outcome.CLOSED
        assert [r.record_key for r in result.records] == [by_name]
        assert estate.record(by_name).is_closed
        assert estate.record(by_id).history == ()  # the closed one is not written again

    def test_name_that_only_nearly_matches_does_not_close(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "web")
        estate.deleted(SG, "sg-1", name="web-sg")
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    @pytest.mark.parametrize(
        "arn",
        [
            "arn:aws:s3:::elm-audit-logs-eu",
            f"arn:aws:s3:{REGION}:{ACCOUNT}:elm-audit-logs-eu",
            f"arn:aws:s3::{ACCOUNT}:elm-audit-logs-eu",
        ],
    )
    def test_confirmed_deletion_closes_the_arn_exception(self, estate: Estate, arn: str) -> None:
        sample_rule = Rule(
            5, "prod-s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE
        )
        estate.rules.add(sample_rule)
        key = estate.exception(sample_rule, arn)
        estate.deleted(BUCKET, "elm-audit-logs-eu")
        result = estate.run(_sample("deleted-arn-s3.json"))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed
        assert estate.record(key).resource_type == BUCKET

    @pytest.mark.parametrize(
        "arn",
        [
            f"arn:aws:s3:{OTHER_REGION}::my-bucket",
            f"arn:aws:s3::{OTHER_ACCOUNT}:my-bucket",
            "arn:aws:s3:::my-bucket-logs",
            "arn:aws:s3:::logs/my-bucket-x",
            "my-bucket",
        ],
    )
    def test_arn_of_another_account_region_or_resource_does_not_close(
        self, estate: Estate, arn: str
    ) -> None:
        key = estate.exception(SIMPLE_ARN, arn)
        estate.deleted(BUCKET, "my-bucket")
        assert estate.run(event(SIMPLE_ARN, BUCKET, "my-bucket")).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_arn_exception_matches_through_the_resource_name(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ARN, f"arn:aws:iam::{ACCOUNT}:role/team/app-role")
        estate.deleted("AWS::IAM::Role", "AROAEXAMPLE", name="app-role")
        result = estate.run(event(SIMPLE_ARN, "AWS::IAM::Role", "AROAEXAMPLE"))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed

    def test_other_records_of_the_account_are_left_alone(self, estate: Estate) -> None:
        target = estate.exception(SIMPLE_ID, "sg-1")
        bystander = estate.exception(SIMPLE_ID, "sg-2")
        estate.deleted(SG, "sg-1")
        estate.deleted(SG, "sg-2")
        estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert estate.record(target).is_closed
        assert not estate.record(bystander).is_closed


class TestExactKeyReads:
    """A simple Resource-ID rule reads the event's key, not its whole partition.

    DynamoDB's GetItem reads one item by its full primary key ("GetItem", Amazon DynamoDB
    API Reference, https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html);
    a Query reads every item under the partition key it is given.
    """

    def test_open_record_under_the_id_is_closed_without_a_query(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        for n in range(50):
            estate.exception(SIMPLE_ID, f"sg-other-{n}")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed
        assert estate.store.queries == 0

    def test_the_record_under_the_name_is_read_by_key_and_closed_too(self, estate: Estate) -> None:
        by_id = estate.exception(SIMPLE_ID, "AROAEXAMPLEOLDROLE01")
        by_name = estate.exception(SIMPLE_ID, "app-role")
        estate.deleted("AWS::IAM::Role", "AROAEXAMPLEOLDROLE01", name="app-role")
        result = estate.run(event(SIMPLE_ID, "AWS::IAM::Role", "AROAEXAMPLEOLDROLE01"))
        assert {r.record_key for r in result.records} == {by_id, by_name}
        assert estate.record(by_name).is_closed
        assert estate.store.queries == 0
        # The ID's record and the name's record: two reads, one Config call.
        assert len(estate.inventory.calls) == 1

    def test_the_record_under_the_name_in_another_region_is_left_open(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        elsewhere = estate.exception(SIMPLE_ID, "web-sg", region=OTHER_REGION)
        estate.deleted(SG, "sg-1", name="web-sg")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.CLOSED
        assert not estate.record(elsewhere).is_closed

    def test_id_record_of_another_region_falls_back_to_the_query(self, estate: Estate) -> None:
        elsewhere = estate.exception(SIMPLE_ID, "sg-1", region=OTHER_REGION)
        by_name = estate.exception(SIMPLE_ID, "web-sg")
        estate.deleted(SG, "sg-1", name="web-sg")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(by_name).is_closed
        assert not estate.record(elsewhere).is_closed
        assert estate.store.queries == 1

    def test_closed_id_record_falls_back_to_the_query_and_finds_the_name(
        self, estate: Estate
    ) -> None:
        estate.exception(SIMPLE_ID, "sg-1", status=CLOSED_STATUS)
        by_name = estate.exception(SIMPLE_ID, "web-sg")
        estate.deleted(SG, "sg-1", name="web-sg")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(by_name).is_closed

    def test_still_existing_resource_is_not_closed_on_the_exact_path(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.existing(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.NOT_CONFIRMED
        assert not estate.record(key).is_closed

    def test_arn_and_composite_rules_still_query_the_partition(self, estate: Estate) -> None:
        estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        assert estate.run(event(COMPOSITE_ID, VOLUME, "vol-1")).outcome is Outcome.MEMBER_DELETED
        assert estate.store.queries == 1
        assert estate.store.gets == 0


class TestAccountIsolation:
    def test_event_for_account_a_never_touches_account_bs_exception(self, estate: Estate) -> None:
        mine = estate.exception(SIMPLE_ID, "sg-1")
        theirs = estate.exception(SIMPLE_ID, "sg-1", account=OTHER_ACCOUNT)
        estate.deleted(SG, "sg-1")
        estate.deleted(SG, "sg-1", account=OTHER_ACCOUNT)
        before = estate.record(theirs)
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.CLOSED
        assert estate.record(mine).is_closed
        assert estate.record(theirs) == before
        assert all(c.account_id == ACCOUNT for c in estate.inventory.calls)

    def test_event_for_account_a_with_only_bs_exception_is_no_match(self, estate: Estate) -> None:
        theirs = estate.exception(SIMPLE_ID, "sg-1", account=OTHER_ACCOUNT)
        estate.deleted(SG, "sg-1")
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.NO_MATCH
        assert not estate.record(theirs).is_closed

    def test_arn_naming_another_account_under_my_partition_is_not_closed(
        self, estate: Estate
    ) -> None:
        arn = f"arn:aws:ec2:{REGION}:{OTHER_ACCOUNT}:security-group/sg-1"
        key = estate.exception(SIMPLE_ARN, arn)
        estate.deleted(SG, "sg-1")
        assert estate.run(event(SIMPLE_ARN, SG, "sg-1")).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed


class TestRegionFilter:
    def test_exception_of_another_region_is_not_closed(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-9", region=OTHER_REGION)
        estate.deleted(SG, "sg-9")
        assert estate.run(event(SIMPLE_ID, SG, "sg-9")).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_event_in_the_exceptions_region_closes_it(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-9", region=OTHER_REGION)
        estate.deleted(SG, "sg-9", region=OTHER_REGION)
        result = estate.run(event(SIMPLE_ID, SG, "sg-9", region=OTHER_REGION))
        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed


class TestComposite:
    def test_first_member_is_recorded_and_the_exception_stays_open(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")
        estate.existing(VOLUME, "vol-3")
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1", event_id="e1"))
        assert result.outcome is Outcome.MEMBER_DELETED
        assert result.records[0].members == ("vol-1",)
        record = estate.record(key)
        assert not record.is_closed
        assert record.ttl is None
        assert record.deleted_members == frozenset({"vol-1"})
        assert record.last_modified_by == ELM_AUTOMATION
        # The rule lists no ResourceTypes: the other members may be of other types.
        assert record.resource_type is None
        assert record.history == (
            HistoryEntry("e1", estate.clock.now(), Action.MEMBER_DELETED, "vol-1"),
        )

    @pytest.mark.parametrize("order", list(itertools.permutations(["vol-1", "vol-2", "vol-3"])))
    def test_closes_only_when_the_last_member_is_confirmed_in_any_order(
        self, estate: Estate, order: tuple[str, ...]
    ) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3")
        for member in ("vol-1", "vol-2", "vol-3"):
            estate.existing(VOLUME, member)
        outcomes = []
        for number, member in enumerate(order):
            estate.deleted(VOLUME, member)
            result = estate.run(event(COMPOSITE_ID, VOLUME, member, event_id=f"e{number}"))
            outcomes.append(result.outcome)
            assert estate.record(key).is_closed is (number == 2)
        assert outcomes == [Outcome.MEMBER_DELETED, Outcome.MEMBER_DELETED, Outcome.CLOSED]
        record = estate.record(key)
        assert record.ttl == TTL_90_DAYS
        assert [e.member for e in record.history] == [*order, None]
        assert record.history[-1].action is Action.CLOSED

    def test_single_member_composite_closes_at_once(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1")
        estate.deleted(VOLUME, "vol-1")
        assert estate.run(event(COMPOSITE_ID, VOLUME, "vol-1")).outcome is Outcome.CLOSED
        assert estate.record(key).deleted_members == frozenset({"vol-1"})

    def test_other_members_are_confirmed_in_the_same_config_call(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3")
        estate.deleted(VOLUME, "vol-1")
        estate.deleted(VOLUME, "vol-2")  # its own event was lost
        estate.existing(VOLUME, "vol-3")
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1", event_id="e1"))
        assert result.outcome is Outcome.MEMBER_DELETED
        assert estate.inventory.calls == [
            InventoryCall(ACCOUNT, REGION, VOLUME, ("vol-1", "vol-2", "vol-3"))
        ]
        assert estate.record(key).deleted_members == frozenset({"vol-1", "vol-2"})
        assert result.records[0].members == ("vol-1", "vol-2")

    def test_lost_events_of_every_other_member_do_not_keep_it_open(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3")
        for member in ("vol-1", "vol-2", "vol-3"):
            estate.deleted(VOLUME, member)
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-3"))
        assert result.outcome is Outcome.CLOSED
        assert len(estate.inventory.calls) == 1
        assert len(estate.store.writes) == 1
        assert estate.record(key).is_closed

    def test_members_already_recorded_are_not_asked_again(self, estate: Estate) -> None:
        estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3", deleted_members=frozenset({"vol-2"}))
        estate.deleted(VOLUME, "vol-1")
        estate.run(event(COMPOSITE_ID, VOLUME, "vol-1"))
        assert estate.inventory.calls == [
            InventoryCall(ACCOUNT, REGION, VOLUME, ("vol-1", "vol-3"))
        ]

    def test_many_members_are_asked_twenty_at_a_time(self, estate: Estate) -> None:
        members = [f"vol-{n:02d}" for n in range(25)]
        key = estate.exception(COMPOSITE_ID, ",".join(members))
        for member in members:
            estate.deleted(VOLUME, member)
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-07"))
        assert result.outcome is Outcome.CLOSED
        assert [len(c.resource_ids) for c in estate.inventory.calls] == [20, 5]
        assert estate.inventory.calls[0].resource_ids[0] == "vol-07"
        asked = [i for c in estate.inventory.calls for i in c.resource_ids]
        assert sorted(asked) == sorted(members)
        assert estate.record(key).deleted_members == frozenset(members)

    def test_arn_composite_records_only_the_member_of_the_event(self, estate: Estate) -> None:
        arns = [f"arn:aws:rds:{REGION}:{ACCOUNT}:db:db-{n}" for n in (1, 2)]
        key = estate.exception(COMPOSITE_ARN, ",".join(arns))
        estate.deleted(DB, "db-1")
        estate.deleted(DB, "db-2")
        result = estate.run(event(COMPOSITE_ARN, DB, "db-1"))
        assert result.outcome is Outcome.MEMBER_DELETED
        # ARN members cannot be asked about by ID: only the event's resource is looked up.
        assert estate.inventory.calls == [InventoryCall(ACCOUNT, REGION, DB, ("db-1",))]
        assert estate.record(key).deleted_members == frozenset({arns[0]})
        assert estate.run(event(COMPOSITE_ARN, DB, "db-2")).outcome is Outcome.CLOSED
        assert estate.record(key).is_closed

    def test_member_with_a_near_miss_name_does_not_count(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "db,db-replica")
        estate.deleted(DB, "db-prod")
        assert estate.run(event(COMPOSITE_ID, DB, "db-prod")).outcome is Outcome.NO_MATCH
        assert estate.record(key).deleted_members == frozenset()

    def test_member_named_by_its_resource_name_is_recorded(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "web-sg,sg-2")
        estate.deleted(SG, "sg-1", name="web-sg")
        estate.existing(SG, "sg-2")
        result = estate.run(event(COMPOSITE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.MEMBER_DELETED
        assert estate.record(key).deleted_members == frozenset({"web-sg"})

    def test_a_resource_in_two_composites_is_recorded_in_both(self, estate: Estate) -> None:
        first = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        second = estate.exception(COMPOSITE_ID, "vol-1")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1"))
        # The strongest outcome is reported; each record has its own.
        assert result.outcome is Outcome.CLOSED
        assert {r.record_key: r.outcome for r in result.records} == {
            first: Outcome.MEMBER_DELETED,
            second: Outcome.CLOSED,
        }
        assert estate.record(first).deleted_members == frozenset({"vol-1"})
        assert estate.record(second).is_closed


class TestDuplicate:
    def test_same_event_twice_changes_nothing_the_second_time(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        delivery = event(SIMPLE_ID, SG, "sg-1", event_id="evt-1")
        assert estate.run(delivery).outcome is Outcome.CLOSED
        after_first = estate.record(key)
        writes = list(estate.store.writes)
        estate.clock.advance(timedelta(hours=5))
        second = estate.run(delivery)
        assert second.outcome is Outcome.DUPLICATE
        assert second.reason == "already closed or recorded"
        assert not second.outcome.fails_record
        assert estate.store.writes == writes
        assert estate.record(key) == after_first  # the TTL is not pushed back

    def test_closed_exception_is_a_duplicate_without_a_config_call(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1", status=CLOSED_STATUS, ttl=5)
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.DUPLICATE
        assert [(r.record_key, r.outcome) for r in result.records] == [(key, Outcome.DUPLICATE)]
        assert estate.inventory.calls == []
        assert estate.record(key).ttl == 5

    def test_member_event_twice_records_the_member_once(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")
        delivery = event(COMPOSITE_ID, VOLUME, "vol-1", event_id="e1")
        assert estate.run(delivery).outcome is Outcome.MEMBER_DELETED
        writes = list(estate.store.writes)
        assert estate.run(delivery).outcome is Outcome.DUPLICATE
        assert estate.store.writes == writes
        assert len(estate.record(key).history) == 1

    def test_member_event_after_the_composite_closed_is_a_duplicate(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.deleted(VOLUME, "vol-2")
        assert estate.run(event(COMPOSITE_ID, VOLUME, "vol-2")).outcome is Outcome.CLOSED
        closed = estate.record(key)
        # vol-1's own event arrives late: it was confirmed with vol-2 already.
        assert estate.run(event(COMPOSITE_ID, VOLUME, "vol-1")).outcome is Outcome.DUPLICATE
        assert estate.record(key) == closed

    def test_history_never_holds_two_entries_with_one_identity(self, estate: Estate) -> None:
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3")
        for member in ("vol-1", "vol-2", "vol-3"):
            estate.deleted(VOLUME, member)
        for member in ("vol-1", "vol-1", "vol-2", "vol-3", "vol-2"):
            estate.run(event(COMPOSITE_ID, VOLUME, member, event_id=f"e-{member}"))
        history = estate.record(key).history
        assert len({e.identity for e in history}) == len(history)


class TestDryRun:
    def test_dry_run_reports_the_close_and_writes_nothing(self, estate: Estate) -> None:
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        before = estate.snapshot()
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"), dry_run=True)
        assert result.outcome is Outcome.CLOSED
        assert result.dry_run is True
        assert result.reason == "deletion confirmed by AWS Config; exception would be closed"
        assert [(r.record_key, r.outcome) for r in result.records] == [(key, Outcome.CLOSED)]
        _assert_untouched(estate, before)

    def test_dry_run_reports_a_member_and_writes_nothing(self, estate: Estate) -> None:
        estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")
        before = estate.snapshot()
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1"), dry_run=True)
        assert result.outcome is Outcome.MEMBER_DELETED
        assert result.records[0].members == ("vol-1",)
        _assert_untouched(estate, before)


class TestFailed:
    def test_config_error_fails_the_record_and_writes_nothing(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        estate.inventory.failure = "AccessDenied: not authorized to assume the role"
        before = estate.snapshot()
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.FAILED
        assert result.reason == "transient error: AccessDenied: not authorized to assume the role"
        assert result.outcome.fails_record
        assert result.event_id is not None
        _assert_untouched(estate, before)

    def test_config_error_during_the_name_lookup_fails_the_record(self, estate: Estate) -> None:
        estate.exception(SIMPLE_ID, "web-sg")
        estate.inventory.failure = "Throttling"
        assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.FAILED

    @pytest.mark.parametrize(
        ("operation", "rule", "key", "resource_type", "resource_id"),
        [
            # A simple Resource-ID rule reads the event's key with a GetItem...
            ("get", SIMPLE_ID, "sg-1", SG, "sg-1"),
            ("apply", SIMPLE_ID, "sg-1", SG, "sg-1"),
            # ...a composite's members are found by the partition Query.
            ("list_for", COMPOSITE_ID, "vol-1,vol-2", VOLUME, "vol-1"),
            ("apply", COMPOSITE_ID, "vol-1,vol-2", VOLUME, "vol-1"),
        ],
    )
    def test_store_error_fails_the_record_and_writes_nothing(
        self,
        estate: Estate,
        operation: str,
        rule: Rule,
        key: str,
        resource_type: str,
        resource_id: str,
    ) -> None:
        store = FailingStore(failing=operation)
        estate.store = store
        record_key = estate.exception(rule, key)
        estate.deleted(resource_type, resource_id)
        result = estate.run(event(rule, resource_type, resource_id))
        assert result.outcome is Outcome.FAILED
        assert result.reason == f"transient error: store unavailable during {operation}"
        assert estate.store.writes == []
        store.failing = ""
        assert not estate.record(record_key).is_closed

    def test_rule_catalog_error_fails_the_record(self, estate: Estate) -> None:
        estate.rules = FailingRuleCatalog()
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.FAILED
        assert result.reason == "transient error: rules table unavailable"


def test_every_outcome_is_produced_by_this_suite() -> None:
    # A guard: the classes above cover every value; a new outcome needs a test here too.
    covered = {
        Outcome.CLOSED,
        Outcome.MEMBER_DELETED,
        Outcome.DUPLICATE,
        Outcome.NO_MATCH,
        Outcome.NOT_CONFIRMED,
        Outcome.IGNORED,
        Outcome.REJECTED,
        Outcome.INVALID,
        Outcome.FAILED,
    }
    assert covered == set(Outcome)


def test_a_non_deletion_change_built_by_the_sample_builder_is_ignored(estate: Estate) -> None:
    change = compliance_change_event(
        account_id=ACCOUNT,
        region=REGION,
        rule_name=SIMPLE_ID.name,
        resource_type=SG,
        resource_id="sg-1",
        new_compliance="NON_COMPLIANT",
        new_annotation="Ingress 0.0.0.0/0 on port 22.",
    )
    estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")
    assert estate.run(change).outcome is Outcome.IGNORED
    assert estate.store.writes == []


class TestLostRace:
    def test_member_recorded_by_another_writer_meanwhile_is_kept_and_the_write_reapplied(
        self, estate: Estate
    ) -> None:
        estate.store = RacingStore(races=[another_writer_records("vol-2")])
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")  # this Lambda's Config call saw vol-2 still there
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1", event_id="e1"))
        assert result.outcome is Outcome.CLOSED
        assert estate.store.attempts == 2
        assert estate.store.conflicts == 1
        record = estate.record(key)
        assert record.is_closed
        assert record.deleted_members == frozenset({"vol-1", "vol-2"})
        assert [(e.action, e.member) for e in record.history] == [
            (Action.MEMBER_DELETED, "vol-1"),
            (Action.CLOSED, None),
        ]

    def test_record_closed_by_another_writer_meanwhile_is_a_duplicate(self, estate: Estate) -> None:
        estate.store = RacingStore(races=[another_writer_closes(ttl=42)])
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"))
        assert result.outcome is Outcome.DUPLICATE
        assert estate.store.writes == []
        assert estate.record(key).ttl == 42  # never pushed back

    def test_member_we_confirmed_recorded_by_another_writer_is_a_duplicate(
        self, estate: Estate
    ) -> None:
        estate.store = RacingStore(races=[another_writer_records("vol-1")])
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")
        assert estate.run(event(COMPOSITE_ID, VOLUME, "vol-1")).outcome is Outcome.DUPLICATE
        assert estate.store.writes == []
        assert estate.record(key).deleted_members == frozenset({"vol-1"})

    def test_races_lost_a_few_times_still_end_in_one_write(self, estate: Estate) -> None:
        estate.store = RacingStore(
            races=[another_writer_records("vol-2"), another_writer_records("vol-3")]
        )
        key = estate.exception(COMPOSITE_ID, "vol-1,vol-2,vol-3,vol-4")
        estate.deleted(VOLUME, "vol-1")
        for member in ("vol-2", "vol-3", "vol-4"):
            estate.existing(VOLUME, member)
        result = estate.run(event(COMPOSITE_ID, VOLUME, "vol-1"))
        assert result.outcome is Outcome.MEMBER_DELETED
        assert estate.store.attempts == 3
        assert len(estate.store.writes) == 1
        assert estate.record(key).open_members() == ("vol-4",)

    @pytest.mark.parametrize("attempts", [1, 3, 5])
    def test_retries_are_bounded_and_then_the_record_fails(
        self, estate: Estate, attempts: int
    ) -> None:
        estate.store = ConflictingStore()
        key = estate.exception(SIMPLE_ID, "sg-1")
        estate.deleted(SG, "sg-1")
        result = estate.run(event(SIMPLE_ID, SG, "sg-1"), max_write_attempts=attempts)
        assert result.outcome is Outcome.FAILED
        assert result.reason == (
            f"transient error: record {ACCOUNT}_1/sg-1 kept changing under "
            f"{attempts} write attempts"
        )
        assert estate.store.attempts == attempts
        assert not estate.record(key).is_closed
