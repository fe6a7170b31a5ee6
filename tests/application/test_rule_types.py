"""FillRuleTypes: `ResourceTypes` copied from AWS Config's rule scopes, a dry run by default."""

from __future__ import annotations

import pytest
from attrs import evolve

from adapters.in_memory import InMemoryRuleCatalog, InMemoryRuleScopes
from application.errors import TransientError
from application.rule_types import FillRuleTypes, TypesOutcome
from domain.rules import ExceptionFormat, ExceptionType, Rule

SG = "AWS::EC2::SecurityGroup"
VOLUME = "AWS::EC2::Volume"
UNTYPED = Rule(1, "restricted-ssh", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
TYPED = Rule(
    2, "ebs-encrypted", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, frozenset({VOLUME})
)
NARROWED = Rule(3, "sg-tagged", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG}))
PERIODIC = Rule(4, "iam-password-policy", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
ELSEWHERE = Rule(5, "only-in-another-region", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)


@pytest.fixture
def catalog() -> InMemoryRuleCatalog:
    rules = InMemoryRuleCatalog()
    for rule in (UNTYPED, TYPED, NARROWED, PERIODIC, ELSEWHERE):
        rules.add(rule)
    return rules


@pytest.fixture
def scopes() -> InMemoryRuleScopes:
    return InMemoryRuleScopes(
        {
            "restricted-ssh": frozenset({SG}),
            "ebs-encrypted": frozenset({VOLUME}),
            "sg-tagged": frozenset({SG, VOLUME}),
            "iam-password-policy": frozenset(),
            "a-rule-elm-does-not-know": frozenset({SG}),
        }
    )


def test_a_dry_run_reports_every_rule_and_writes_nothing(
    catalog: InMemoryRuleCatalog, scopes: InMemoryRuleScopes
) -> None:
    results = FillRuleTypes(catalog, scopes).execute()

    assert [(r.rule.name, r.outcome) for r in results] == [
        ("restricted-ssh", TypesOutcome.FILLED),
        ("ebs-encrypted", TypesOutcome.UNCHANGED),
        ("sg-tagged", TypesOutcome.DIFFERS),
        ("iam-password-policy", TypesOutcome.NO_SCOPE),
        ("only-in-another-region", TypesOutcome.NOT_IN_CONFIG),
    ]
    assert not any(r.written for r in results)
    assert catalog.get(1) == UNTYPED
    assert catalog.find_by_resource_type(SG) == [NARROWED]


def test_apply_fills_the_missing_types_and_leaves_the_narrowed_ones(
    catalog: InMemoryRuleCatalog, scopes: InMemoryRuleScopes
) -> None:
    results = FillRuleTypes(catalog, scopes).execute(apply=True)

    assert catalog.get(1) == evolve(UNTYPED, resource_types=frozenset({SG}))
    assert catalog.get(3) == NARROWED
    # The filled rule is now a candidate of AWS Config's deletion records for its type.
    assert [r.name for r in catalog.find_by_resource_type(SG)] == ["restricted-ssh", "sg-tagged"]
    assert [r.rule.name for r in results if r.lacks_types] == [
        "iam-password-policy",
        "only-in-another-region",
    ]


def test_replace_also_overwrites_types_that_differ(
    catalog: InMemoryRuleCatalog, scopes: InMemoryRuleScopes
) -> None:
    results = FillRuleTypes(catalog, scopes).execute(apply=True, replace=True)

    assert {r.rule.name: r.outcome for r in results}["sg-tagged"] is TypesOutcome.REPLACED
    assert catalog.get(3) == evolve(NARROWED, resource_types=frozenset({SG, VOLUME}))


def test_config_is_asked_once(catalog: InMemoryRuleCatalog, scopes: InMemoryRuleScopes) -> None:
    FillRuleTypes(catalog, scopes).execute(apply=True)

    assert scopes.calls == 1


def test_config_errors_reach_the_caller(
    catalog: InMemoryRuleCatalog, scopes: InMemoryRuleScopes
) -> None:
    scopes.failure = "AccessDeniedException: config:DescribeConfigRules"

    with pytest.raises(TransientError):
        FillRuleTypes(catalog, scopes).execute(apply=True)
    assert catalog.get(1) == UNTYPED
