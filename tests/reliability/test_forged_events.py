"""Forged or mis-addressed events are refused before ELM assumes any role, and the role ARN is
only ever built from a validated 12-digit account (docs/behaviour.md).

A role is assumed in whatever account an event names: an event that may name someone else's
account, or smuggle ARN or path fragments into the ARN, must never get that far. STS calls are
counted on the wire, so "before any AssumeRole call" is measured, not assumed.
"""

from __future__ import annotations

import json

import pytest
from attrs import evolve
from aws_wire import (
    ACCOUNT_A,
    ACCOUNT_B,
    REGION,
    SG,
    SG_RULE,
    FakeLambdaContext,
    LogCapture,
    WiredAws,
    failed_ids,
    seed_estate,
    sqs_event,
)

from adapters.aws import AwsClients
from adapters.aws.config_inventory import ConfigServiceInventory
from entrypoints.lambda_handler import handler
from entrypoints.local.sample_events import compliance_change_event, deletion_event

NON_ASCII_DIGITS = "\u0661" * 12  # ARABIC-INDIC DIGIT ONE: a digit to a regex, not to AWS


def _event(**changes: object) -> dict[str, object]:
    event = deletion_event(
        account_id=ACCOUNT_A,
        region=REGION,
        rule_name=SG_RULE,
        resource_type=SG,
        resource_id="sg-a1",
        event_id="evt-forged",
    )
    for path, value in changes.items():
        target = event
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]  # type: ignore[assignment]
        target[leaf] = value
    return event


FORGED = {
    "envelope-account-differs": (_event(account=ACCOUNT_B), "rejected"),
    "envelope-region-differs": (_event(region="us-east-1"), "rejected"),
    "detail-account-differs": (_event(detail__awsAccountId=ACCOUNT_B), "rejected"),
    "account-with-arn-fragment": (
        _event(account=None, detail__awsAccountId=f"{ACCOUNT_A}:role/Admin"),
        "invalid",
    ),
    "account-with-path": (_event(account=None, detail__awsAccountId=f"../{ACCOUNT_A}"), "invalid"),
    "account-with-wildcard": (_event(account=None, detail__awsAccountId="*"), "invalid"),
    "account-of-non-ascii-digits": (
        _event(account=None, detail__awsAccountId=NON_ASCII_DIGITS),
        "invalid",
    ),
    "region-of-non-ascii-digits": (
        _event(region=None, detail__awsRegion="eu-west-\u0661"),
        "invalid",
    ),
    "account-as-number": (_event(account=None, detail__awsAccountId=111122223333), "invalid"),
}


@pytest.mark.moto
@pytest.mark.parametrize("case", FORGED)
def test_a_forged_event_is_refused_before_any_role_is_assumed_and_nothing_is_written(
    wired: WiredAws, captured_log: LogCapture, case: str
) -> None:
    event, outcome = FORGED[case]
    seed_estate(wired)
    before = wired.item(f"{ACCOUNT_A}_1", "sg-a1")

    response = handler(sqs_event(json.dumps(event)), FakeLambdaContext())

    assert [line["outcome"] for line in captured_log.lines() if "outcome" in line] == [outcome]
    assert failed_ids(response) == (["m0"] if outcome == "invalid" else [])
    assert wired.wire.calls["sts.AssumeRole"] == 0
    assert wired.wire.calls["config.ListDiscoveredResources"] == 0
    assert wired.writes() == 0
    assert wired.item(f"{ACCOUNT_A}_1", "sg-a1") == before


@pytest.mark.moto
def test_an_account_outside_the_allowed_accounts_is_rejected_before_any_role_is_assumed(
    wired: WiredAws, captured_log: LogCapture
) -> None:
    seed_estate(wired)
    wired.settings = evolve(wired.settings, allowed_accounts=frozenset({ACCOUNT_B}))
    event = compliance_change_event(
        account_id=ACCOUNT_A,
        region=REGION,
        rule_name=SG_RULE,
        resource_type=SG,
        resource_id="sg-a1",
    )

    response = handler(sqs_event(json.dumps(event)), FakeLambdaContext())

    lines = [line for line in captured_log.lines() if "outcome" in line]
    assert [(line["outcome"], line["level"]) for line in lines] == [("rejected", "WARNING")]
    assert "ELM_ALLOWED_ACCOUNTS" in lines[0]["reason"]
    assert failed_ids(response) == []
    assert wired.wire.calls["sts.AssumeRole"] == 0
    assert wired.writes() == 0


@pytest.mark.moto
@pytest.mark.parametrize(
    "account",
    [f"{ACCOUNT_A}:role/Admin", f"../{ACCOUNT_A}", "*", NON_ASCII_DIGITS, "11112222333", ""],
)
def test_the_role_arn_is_only_ever_built_from_a_twelve_digit_account(
    wired: WiredAws, account: str
) -> None:
    inventory = ConfigServiceInventory(AwsClients(wired.session), "Role-Config-Mgmt")

    with pytest.raises(ValueError, match="12 digits"):
        inventory.role_arn(account)
    with pytest.raises(ValueError, match="12 digits"):
        inventory.lookup(account, REGION, SG, ["sg-a1"])
    assert wired.wire.calls["sts.AssumeRole"] == 0
    assert inventory.role_arn(ACCOUNT_A).endswith(f"::{ACCOUNT_A}:role/Role-Config-Mgmt")
