"""The wirings themselves: what each one runs the features on, and what it leaves behind."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from adapters.in_memory import FixedClock, InMemoryInventory
from application.ports import Clock, ExceptionStore, ResourceInventory, RuleCatalog
from domain.outcomes import Outcome
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import compliance_change_event
from tests.bdd.wiring import WIRINGS, AwsWiring, Wiring

SG = "AWS::EC2::SecurityGroup"


@pytest.fixture
def aws() -> Iterator[AwsWiring]:
    built = AwsWiring()
    try:
        yield built
    finally:
        built.close()


@pytest.mark.moto
def test_the_aws_wiring_runs_the_dynamo_adapters_with_the_inventory_and_clock_twins(
    aws: AwsWiring,
) -> None:
    container = aws.container()
    assert isinstance(container.get(ExceptionStore), DynamoExceptionStore)
    assert isinstance(container.get(RuleCatalog), DynamoRuleCatalog)
    assert isinstance(container.get(ResourceInventory), InMemoryInventory)
    assert isinstance(container.get(Clock), FixedClock)


@pytest.mark.moto
def test_closing_the_aws_wiring_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "mine")
    before = dict(os.environ)
    wiring = AwsWiring()
    assert "AWS_ENDPOINT_URL" not in os.environ
    wiring.close()
    wiring.close()
    assert dict(os.environ) == before


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.moto] if n == "aws" else []) for n in WIRINGS]
)
def test_a_rule_added_after_a_delivery_is_seen_by_the_next_one(name: str) -> None:
    wiring: Wiring = WIRINGS[name]()
    try:
        event = compliance_change_event(
            account_id="111122223333",
            region="eu-west-1",
            rule_name="sg-late-rule",
            resource_type=SG,
            resource_id="sg-1",
        )
        assert wiring.deliver(event).outcome is Outcome.IGNORED
        wiring.add_rule(Rule(7, "sg-late-rule", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
        assert wiring.deliver(event).outcome is Outcome.NO_MATCH
    finally:
        wiring.close()
