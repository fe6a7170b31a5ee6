"""The second signal: AWS Config's own record of a deletion closes exceptions of any rule.

A configuration item change names no rule: its rules are those whose `ResourceTypes` include
the deleted resource's type. It names the resource exactly (type, ID, name, ARN), so the
reads are by key where the key can only be the ID, the name or the recorded ARN. The two
signals of one deletion give one change: whichever comes second is `duplicate`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.in_memory.inventory import InventoryCall
from application.ports import Message
from application.process_batch import ProcessBatch
from domain.outcomes import Outcome
from domain.records import CLOSED_STATUS, Action
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import configuration_item_event
from tests.application.estate import (
    ACCOUNT,
    BUCKET,
    OTHER_ACCOUNT,
    OTHER_REGION,
    REGION,
    SG,
    SIMPLE_ID,
    VOLUME,
    Estate,
    event,
)

ROLE = "AWS::IAM::Role"
# Managed rules: they never annotate a deletion, so only this signal (or the sweep) closes.
RESTRICTED_SSH = Rule(
    11, "restricted-ssh", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
)
SG_TAGGED = Rule(
    12, "sg-tagged", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG, VOLUME})
)
S3_VERSIONING = Rule(
    13, "s3-versioning", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE, frozenset({BUCKET})
)
IAM_NO_INLINE = Rule(
    14, "iam-no-inline", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE, frozenset({ROLE})
)
EBS_GROUP = Rule(
    15, "ebs-optimised", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, frozenset({VOLUME})
)

SG_ID = "sg-0c1d2e3f4a5b6c7d8"
SG_NAME = "web-legacy"
SG_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{SG_ID}"
ROLE_ID = "AROAXAMPLE0DEPLOY0001"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deploy-legacy"


@pytest.fixture
def estate(estate: Estate) -> Estate:
    for rule in (RESTRICTED_SSH, SG_TAGGED, S3_VERSIONING, IAM_NO_INLINE, EBS_GROUP):
        estate.rules.add(rule)
    return estate


def item(
    resource_type: str = SG,
    resource_id: str = SG_ID,
    *,
    name: str | None = SG_NAME,
    arn: str | None = SG_ARN,
    **fields: Any,
) -> dict[str, Any]:
    """AWS Config's record of a deleted resource."""
    fields.setdefault("account_id", ACCOUNT)
    fields.setdefault("region", REGION)
    return configuration_item_event(
        resource_type=resource_type,
        resource_id=resource_id,
        resource_name=name,
        arn=arn,
        **fields,
    )


class TestCandidates:
    def test_managed_rule_exception_is_closed_by_the_deletion_record(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_ID)
        estate.deleted(SG, SG_ID, name=SG_NAME)

        result = estate.run(item(event_id="ci-1"))

        assert result.outcome is Outcome.CLOSED
        assert result.signal == "configuration-item"
        assert result.rule_name == "restricted-ssh"
        record = estate.record(key)
        assert record.status == CLOSED_STATUS
        assert [(h.event_id, h.action) for h in record.history] == [("ci-1", Action.CLOSED)]
        assert record.resource_type == SG

    def test_simple_id_rules_are_read_by_key_only_id_and_name(self, estate: Estate) -> None:
        estate.exception(RESTRICTED_SSH, SG_ID)
        estate.deleted(SG, SG_ID, name=SG_NAME)

        estate.run(item())

        # Two rules cover security groups; each is read by its two keys, never queried.
        assert estate.store.queries == 0
        assert estate.store.gets == 4
        assert estate.inventory.calls == [InventoryCall(ACCOUNT, REGION, SG, (SG_ID,))]

    def test_key_holding_the_name_closes_when_no_live_namesake(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_NAME)
        estate.deleted(SG, SG_ID, name=SG_NAME)

        result = estate.run(item())

        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed
        # The name came from the event; Config was asked only whether a live namesake exists.
        assert [c.resource_name for c in estate.inventory.name_calls] == [SG_NAME]

    def test_key_holding_the_name_of_a_live_namesake_is_not_confirmed(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_NAME)
        estate.deleted(SG, SG_ID, name=SG_NAME)
        estate.existing(SG, "sg-0ffff", name=SG_NAME)

        result = estate.run(item())

        assert result.outcome is Outcome.NOT_CONFIRMED
        assert "sg-0ffff" in result.reason
        assert not estate.record(key).is_closed

    def test_arn_key_equal_to_the_recorded_arn_is_read_by_key(self, estate: Estate) -> None:
        key = estate.exception(IAM_NO_INLINE, ROLE_ARN, region=REGION)
        estate.deleted(ROLE, ROLE_ID, name="deploy-legacy")

        result = estate.run(item(ROLE, ROLE_ID, name="deploy-legacy", arn=ROLE_ARN))

        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed
        assert estate.store.queries == 0

    def test_arn_key_with_a_path_matches_by_shape_through_the_partition(
        self, estate: Estate
    ) -> None:
        spelled = f"arn:aws:iam::{ACCOUNT}:role/team/deploy-legacy"
        key = estate.exception(IAM_NO_INLINE, spelled)
        estate.deleted(ROLE, ROLE_ID, name="deploy-legacy")

        result = estate.run(item(ROLE, ROLE_ID, name="deploy-legacy", arn=ROLE_ARN))

        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed
        assert estate.store.queries == 1

    def test_arn_key_of_another_resource_is_left_open(self, estate: Estate) -> None:
        key = estate.exception(S3_VERSIONING, "arn:aws:s3:::logs-prod")
        estate.deleted(BUCKET, "logs")

        result = estate.run(item(BUCKET, "logs", name="logs", arn="arn:aws:s3:::logs"))

        assert result.outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_type_no_rule_covers_is_no_match_and_reads_nothing(self, estate: Estate) -> None:
        result = estate.run(item("AWS::SNS::Topic", "arn:aws:sns:eu-west-1:111122223333:t"))

        assert result.outcome is Outcome.NO_MATCH
        assert result.reason == "no rule lists AWS::SNS::Topic in its ResourceTypes"
        assert (estate.store.queries, estate.store.gets) == (0, 0)
        assert estate.inventory.calls == []

    def test_rules_without_resource_types_are_left_to_the_first_signal(
        self, estate: Estate
    ) -> None:
        # SIMPLE_ID lists no ResourceTypes: nothing says security groups concern it.
        key = estate.exception(SIMPLE_ID, SG_ID)
        estate.deleted(SG, SG_ID)

        result = estate.run(item())

        assert result.outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_every_rule_covering_the_type_is_closed_with_one_config_call(
        self, estate: Estate
    ) -> None:
        first = estate.exception(RESTRICTED_SSH, SG_ID)
        # Typed: a record without a type under a rule of two types would also ask Config
        # whether a volume has that ID or name (tested with the first signal).
        second = estate.exception(SG_TAGGED, SG_NAME, resource_type=SG)
        estate.deleted(SG, SG_ID, name=SG_NAME)

        result = estate.run(item())

        assert result.outcome is Outcome.CLOSED
        assert estate.record(first).is_closed
        assert estate.record(second).is_closed
        assert {r.record_key for r in result.records} == {first, second}
        assert result.rule_name == "restricted-ssh,sg-tagged"
        assert len(estate.inventory.calls) == 1

    def test_record_of_another_region_is_not_closed(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_ID, region=OTHER_REGION)
        estate.deleted(SG, SG_ID)

        assert estate.run(item()).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_record_of_another_type_is_not_closed(self, estate: Estate) -> None:
        key = estate.exception(SG_TAGGED, SG_ID, resource_type=VOLUME)
        estate.deleted(SG, SG_ID)

        assert estate.run(item()).outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_rules_outside_the_environment_prefix_are_not_candidates(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_ID)
        estate.deleted(SG, SG_ID)

        result = estate.run(item(), rule_prefix="DEV-")

        assert result.outcome is Outcome.NO_MATCH
        assert not estate.record(key).is_closed

    def test_oversized_notification_closes_alike(self, estate: Estate) -> None:
        key = estate.exception(IAM_NO_INLINE, ROLE_ARN)
        estate.deleted(ROLE, ROLE_ID, name="deploy-legacy")

        result = estate.run(item(ROLE, ROLE_ID, name="deploy-legacy", arn=ROLE_ARN, oversized=True))

        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed


class TestConfirmation:
    def test_resource_config_reports_alive_is_not_confirmed(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_ID)
        estate.existing(SG, SG_ID, name=SG_NAME)

        result = estate.run(item())

        assert result.outcome is Outcome.NOT_CONFIRMED
        assert not estate.record(key).is_closed

    def test_config_error_fails_the_event_for_a_retry(self, estate: Estate) -> None:
        estate.exception(RESTRICTED_SSH, SG_ID)
        estate.inventory.failure = "ThrottlingException"

        result = estate.run(item())

        assert result.outcome is Outcome.FAILED
        assert result.outcome.fails_record

    def test_dry_run_writes_nothing(self, estate: Estate) -> None:
        estate.exception(RESTRICTED_SSH, SG_ID)
        estate.deleted(SG, SG_ID)

        result = estate.run(item(), dry_run=True)

        assert result.outcome is Outcome.CLOSED
        assert result.dry_run
        assert "would be" in result.reason
        assert estate.store.writes == []


class TestScreening:
    @pytest.mark.parametrize("status", ["OK", "ResourceDiscovered", "ResourceNotRecorded"])
    def test_other_statuses_are_ignored_and_read_nothing(self, estate: Estate, status: str) -> None:
        estate.exception(RESTRICTED_SSH, SG_ID)

        result = estate.run(item(status=status, change_type="UPDATE"))

        assert result.outcome is Outcome.IGNORED
        assert result.reason == f"configuration item status {status!r} is not a deletion"
        assert (estate.store.queries, estate.store.gets) == (0, 0)

    def test_deleted_not_recorded_is_a_deletion(self, estate: Estate) -> None:
        key = estate.exception(RESTRICTED_SSH, SG_ID)
        estate.deleted(SG, SG_ID)

        result = estate.run(item(status="ResourceDeletedNotRecorded"))

        assert result.outcome is Outcome.CLOSED
        assert estate.record(key).is_closed

    def test_forged_envelope_account_is_rejected_before_anything_is_read(
        self, estate: Estate
    ) -> None:
        estate.exception(RESTRICTED_SSH, SG_ID)

        result = estate.run(item(envelope_account=OTHER_ACCOUNT))

        assert result.outcome is Outcome.REJECTED
        assert result.reason == (
            f"envelope account {OTHER_ACCOUNT!r} disagrees with "
            f"detail.configurationItem.awsAccountId {ACCOUNT!r}"
        )
        assert (estate.store.queries, estate.store.gets) == (0, 0)
        assert estate.inventory.calls == []

    def test_forged_envelope_region_of_an_oversized_item_names_the_summary(
        self, estate: Estate
    ) -> None:
        result = estate.run(item(envelope_region=OTHER_REGION, oversized=True))

        assert result.outcome is Outcome.REJECTED
        assert "detail.configurationItemSummary.awsRegion" in result.reason

    def test_account_outside_the_allowed_accounts_is_rejected(self, estate: Estate) -> None:
        result = estate.run(item(), allowed_accounts=frozenset({OTHER_ACCOUNT}))

        assert result.outcome is Outcome.REJECTED
        assert estate.inventory.calls == []

    def test_malformed_item_is_invalid_and_fails_its_record(self, estate: Estate) -> None:
        body = item()
        del body["detail"]["configurationItem"]["resourceId"]

        result = estate.run(body)

        assert result.outcome is Outcome.INVALID
        assert result.reason == "detail.configurationItem.resourceId is missing"
        assert result.outcome.fails_record


class TestBothSignals:
    """One deletion, two signals: one change, one History entry, whichever comes first."""

    @pytest.mark.parametrize("item_first", [True, False], ids=["item-first", "compliance-first"])
    def test_simple_exception_is_closed_once(self, estate: Estate, item_first: bool) -> None:
        rule = Rule(
            16, "sg-annotated", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
        )
        estate.rules.add(rule)
        key = estate.exception(rule, SG_ID)
        estate.deleted(SG, SG_ID, name=SG_NAME)
        compliance = event(rule, SG, SG_ID, event_id="cc-1")
        record = item(event_id="ci-1")
        first, second = (record, compliance) if item_first else (compliance, record)

        outcomes = [estate.run(first).outcome, estate.run(second).outcome]

        assert outcomes == [Outcome.CLOSED, Outcome.DUPLICATE]
        closed = estate.record(key)
        assert [h.action for h in closed.history] == [Action.CLOSED]
        assert closed.history[0].event_id == ("ci-1" if item_first else "cc-1")
        assert len(estate.store.writes) == 1

    @pytest.mark.parametrize("item_first", [True, False], ids=["item-first", "compliance-first"])
    def test_composite_member_is_recorded_once(self, estate: Estate, item_first: bool) -> None:
        key = estate.exception(EBS_GROUP, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")
        rule_event = event(EBS_GROUP, VOLUME, "vol-1", event_id="cc-1")
        record = item(VOLUME, "vol-1", name=None, arn=None, event_id="ci-1")
        first, second = (record, rule_event) if item_first else (rule_event, record)

        outcomes = [estate.run(first).outcome, estate.run(second).outcome]

        assert outcomes == [Outcome.MEMBER_DELETED, Outcome.DUPLICATE]
        entries = estate.record(key).history
        assert [(h.action, h.member) for h in entries] == [(Action.MEMBER_DELETED, "vol-1")]

    def test_composite_closed_by_a_mix_of_both_signals(self, estate: Estate) -> None:
        key = estate.exception(EBS_GROUP, "vol-1,vol-2")
        estate.deleted(VOLUME, "vol-1")
        estate.existing(VOLUME, "vol-2")

        first = estate.run(item(VOLUME, "vol-1", name=None, arn=None, event_id="ci-1"))
        estate.inventory.delete(ACCOUNT, REGION, VOLUME, "vol-2")
        second = estate.run(event(EBS_GROUP, VOLUME, "vol-2", event_id="cc-2"))

        assert (first.outcome, second.outcome) == (Outcome.MEMBER_DELETED, Outcome.CLOSED)
        record = estate.record(key)
        assert record.is_closed
        assert [(h.event_id, h.action, h.member) for h in record.history] == [
            ("ci-1", Action.MEMBER_DELETED, "vol-1"),
            ("cc-2", Action.MEMBER_DELETED, "vol-2"),
            ("cc-2", Action.CLOSED, None),
        ]

    @pytest.mark.parametrize("item_first", [True, False], ids=["item-first", "compliance-first"])
    def test_both_signals_in_one_batch_give_one_close(
        self, estate: Estate, item_first: bool
    ) -> None:
        rule = Rule(
            16, "sg-annotated", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
        )
        estate.rules.add(rule)
        key = estate.exception(rule, SG_ID)
        estate.deleted(SG, SG_ID, name=SG_NAME)
        bodies = [item(event_id="ci-1"), event(rule, SG, SG_ID, event_id="cc-1")]
        if not item_first:
            bodies.reverse()
        messages = [Message(f"m-{i}", json.dumps(b)) for i, b in enumerate(bodies)]

        report = ProcessBatch(estate.handler()).execute(messages)

        assert [r.outcome for _, r in report.results] == [Outcome.CLOSED, Outcome.DUPLICATE]
        assert [h.action for h in estate.record(key).history] == [Action.CLOSED]
        # The batch asked Config once for the resource both events name.
        assert estate.inventory.calls == [InventoryCall(ACCOUNT, REGION, SG, (SG_ID,))]

    def test_replayed_item_is_a_duplicate(self, estate: Estate) -> None:
        estate.exception(RESTRICTED_SSH, SG_ID)
        estate.deleted(SG, SG_ID)
        body = item(event_id="ci-1")

        assert estate.run(body).outcome is Outcome.CLOSED
        assert estate.run(body).outcome is Outcome.DUPLICATE
        assert len(estate.store.writes) == 1
