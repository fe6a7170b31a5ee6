"""Throttling, denial and timeouts from DynamoDB, STS or AWS Config fail only the records that
needed the failing call; nothing is written for them; once the cause is gone a retry applies
them (docs/behaviour.md: "an error from STS or Config: the record fails and is retried")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from aws_wire import (
    ACCOUNT_A,
    ACCOUNT_B,
    REGION,
    ConfigResource,
    FakeLambdaContext,
    WiredAws,
    deletion,
    failed_ids,
    seed_estate,
    sqs_event,
)
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.lambda_handler import handler

# m0: sg-a1 (account A), m1: sg-a2 (account A), m2: sg-b1 (account B).
BATCH = (
    deletion(ACCOUNT_A, "sg-a1"),
    deletion(ACCOUNT_A, "sg-a2"),
    deletion(ACCOUNT_B, "sg-b1"),
)
RECORDS = {"m0": (ACCOUNT_A, "sg-a1"), "m1": (ACCOUNT_A, "sg-a2"), "m2": (ACCOUNT_B, "sg-b1")}


def _key_is(group: str) -> Any:
    return lambda params: params.get("Key", {}).get("Exception", {}).get("S") == group


def _item_in(account: str) -> Any:
    return lambda params: (
        params.get("Key", {}).get("AccountId_RuleId", {}).get("S") == f"{account}_1"
    )


def _role_in(account: str) -> Any:
    return lambda params: f"::{account}:role/" in params.get("RoleArn", "")


def _asks_for(group: str) -> Any:
    return lambda params: group in params.get("resourceIds", [])


def _items(aws: WiredAws) -> dict[str, dict[str, Any] | None]:
    return {m: aws.item(f"{account}_1", group) for m, (account, group) in RECORDS.items()}


def _check_only_failed(
    aws: WiredAws, response: Mapping[str, Any], failed: list[str], before: dict[str, Any]
) -> None:
    assert failed_ids(response) == failed
    after = _items(aws)
    for message_id, item in after.items():
        assert item is not None
        if message_id in failed:
            assert item == before[message_id], f"{message_id} was written"
        else:
            assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}


def _retry_applies(aws: WiredAws, failed: list[str]) -> None:
    aws.wire.heal()
    retry = handler(sqs_event(*BATCH), FakeLambdaContext())
    assert failed_ids(retry) == []
    for message_id in failed:
        account, group = RECORDS[message_id]
        item = aws.item(f"{account}_1", group)
        assert item is not None
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert len(item["History"]["L"]) == 1


THROTTLING = {
    "dynamodb-update": (
        "dynamodb.UpdateItem",
        "ProvisionedThroughputExceededException",
        _key_is("sg-a2"),
        ["m1"],
    ),
    # A simple Resource-ID rule reads the event's own key: the read is a GetItem.
    "dynamodb-get-item": ("dynamodb.GetItem", "ThrottlingException", _item_in(ACCOUNT_B), ["m2"]),
    "sts-assume-role": ("sts.AssumeRole", "Throttling", _role_in(ACCOUNT_B), ["m2"]),
    "config-list": (
        "config.ListDiscoveredResources",
        "ThrottlingException",
        _asks_for("sg-a2"),
        ["m1"],
    ),
}


@pytest.mark.moto
@pytest.mark.parametrize("case", THROTTLING)
def test_throttling_fails_only_the_affected_records_writes_nothing_for_them_and_a_retry_succeeds(
    wired: WiredAws, case: str
) -> None:
    operation, code, when, failed = THROTTLING[case]
    seed_estate(wired)
    before = _items(wired)
    wired.wire.fail(operation, code, when)

    response = handler(sqs_event(*BATCH), FakeLambdaContext())

    assert wired.wire.calls[operation] >= 1
    # The test's own reads are GetItems too: they run once the handler is done.
    wired.wire.heal()
    _check_only_failed(wired, response, failed, before)
    _retry_applies(wired, failed)


FAILURES = {
    "assume-role-denied": ("sts.AssumeRole", "AccessDenied", _role_in(ACCOUNT_B), ["m2"]),
    "no-configuration-recorder": (
        "config.ListDiscoveredResources",
        "NoAvailableConfigurationRecorderException",
        _asks_for("sg-b1"),
        ["m2"],
    ),
    "config-read-timeout": (
        "config.ListDiscoveredResources",
        ReadTimeoutError(endpoint_url="https://config.eu-west-1.amazonaws.com/"),
        _asks_for("sg-a1"),
        ["m0"],
    ),
    "sts-connect-timeout": (
        "sts.AssumeRole",
        ConnectTimeoutError(endpoint_url="https://sts.amazonaws.com/"),
        _role_in(ACCOUNT_A),
        ["m0", "m1"],
    ),
    "dynamodb-read-timeout": (
        "dynamodb.UpdateItem",
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
        _key_is("sg-b1"),
        ["m2"],
    ),
}


@pytest.mark.moto
@pytest.mark.parametrize("case", FAILURES)
def test_denied_missing_recorder_and_timeouts_fail_the_record_and_leave_the_exception_untouched(
    wired: WiredAws, case: str
) -> None:
    operation, error, when, failed = FAILURES[case]
    seed_estate(wired)
    wired.wire.fail(operation, error, when)
    before = _items(wired)

    response = handler(sqs_event(*BATCH), FakeLambdaContext())

    _check_only_failed(wired, response, failed, before)
    _retry_applies(wired, failed)


@pytest.mark.moto
def test_an_event_whose_second_write_is_throttled_is_completed_by_the_retry_without_repeats(
    wired: WiredAws,
) -> None:
    # One deleted volume belongs to two composite exceptions: the event writes twice.
    seed_estate(wired)
    client = wired.session.client("dynamodb", region_name="us-east-1")
    DynamoRuleCatalog(client, wired.settings.rules_table).add(
        Rule(2, "ebs", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE)
    )
    store = DynamoExceptionStore(client, wired.settings.exceptions_table)
    for key in ("vol-1,vol-2", "vol-1,vol-3"):
        store.add(ExceptionRecord(RecordKey(ACCOUNT_A, 2, key), region=REGION))
    wired.wire.config.update(
        {
            "vol-1": ConfigResource(deleted=True),
            "vol-2": ConfigResource(deleted=False),
            "vol-3": ConfigResource(deleted=False),
        }
    )
    event = sqs_event(deletion(ACCOUNT_A, "vol-1", resource_type="AWS::EC2::Volume", rule="ebs"))
    wired.wire.fail(
        "dynamodb.UpdateItem", "ProvisionedThroughputExceededException", _key_is("vol-1,vol-3")
    )

    assert failed_ids(handler(event, FakeLambdaContext())) == ["m0"]
    wired.wire.heal()
    assert failed_ids(handler(event, FakeLambdaContext())) == []

    for key in ("vol-1,vol-2", "vol-1,vol-3"):
        item = wired.item(f"{ACCOUNT_A}_2", key)
        assert item is not None
        assert item["DeletedMembers"] == {"SS": ["vol-1"]}
        assert [(e["M"]["Action"]["S"], e["M"]["Member"]["S"]) for e in item["History"]["L"]] == [
            ("member-deleted", "vol-1")
        ]
