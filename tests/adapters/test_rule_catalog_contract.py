"""One contract for the `RuleCatalog` port, run on the in-memory twin and on DynamoDB."""

from __future__ import annotations

import pytest

from adapters.aws import DynamoRuleCatalog
from adapters.in_memory import InMemoryRuleCatalog
from application.ports import RuleCatalog
from domain.rules import ExceptionFormat, ExceptionType, Rule

SG_RULE = Rule(
    7,
    "sg-open-ingress",
    ExceptionFormat.RESOURCE_ID,
    ExceptionType.SIMPLE,
    frozenset({"AWS::EC2::SecurityGroup"}),
)
S3_RULE = Rule(12, "s3-public-read", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE)
VOLUME_RULE = Rule(
    3,
    "ebs-unencrypted",
    ExceptionFormat.RESOURCE_ID,
    ExceptionType.COMPOSITE,
    frozenset({"AWS::EC2::Volume", "AWS::EC2::Snapshot"}),
)


@pytest.fixture(params=["in-memory", "dynamo"])
def catalog(request: pytest.FixtureRequest) -> RuleCatalog:
    if request.param == "in-memory":
        return InMemoryRuleCatalog()
    dynamo: DynamoRuleCatalog = request.getfixturevalue("dynamo_catalog")
    return dynamo


def test_find_by_name_returns_the_rule_of_that_name(catalog: RuleCatalog) -> None:
    for rule in (SG_RULE, S3_RULE, VOLUME_RULE):
        catalog.add(rule)

    assert catalog.find_by_name("s3-public-read") == S3_RULE
    assert catalog.find_by_name("ebs-unencrypted") == VOLUME_RULE


def test_find_by_name_of_an_unknown_rule_is_none(catalog: RuleCatalog) -> None:
    catalog.add(SG_RULE)

    assert catalog.find_by_name("SG-OPEN-INGRESS") is None
    assert catalog.find_by_name("sg-open") is None


def test_get_returns_the_rule_of_that_id(catalog: RuleCatalog) -> None:
    catalog.add(SG_RULE)
    catalog.add(S3_RULE)

    assert catalog.get(7) == SG_RULE
    assert catalog.get(8) is None


def test_list_rules_returns_every_rule_by_id(catalog: RuleCatalog) -> None:
    for rule in (SG_RULE, S3_RULE, VOLUME_RULE):
        catalog.add(rule)

    assert catalog.list_rules() == [VOLUME_RULE, SG_RULE, S3_RULE]


def test_add_replaces_a_rule_of_the_same_id(catalog: RuleCatalog) -> None:
    catalog.add(SG_RULE)
    assert catalog.get(7) == SG_RULE

    renamed = Rule(7, "sg-renamed", ExceptionFormat.RESOURCE_ARN, ExceptionType.COMPOSITE)
    catalog.add(renamed)

    assert catalog.get(7) == renamed
    assert catalog.find_by_name("sg-open-ingress") is None
    assert catalog.list_rules() == [renamed]


def test_find_by_resource_type_returns_the_rules_listing_it(catalog: RuleCatalog) -> None:
    other_sg_rule = Rule(
        2,
        "sg-tagged",
        ExceptionFormat.RESOURCE_ID,
        ExceptionType.SIMPLE,
        frozenset({"AWS::EC2::SecurityGroup", "AWS::EC2::Volume"}),
    )
    for rule in (SG_RULE, S3_RULE, VOLUME_RULE, other_sg_rule):
        catalog.add(rule)

    assert catalog.find_by_resource_type("AWS::EC2::SecurityGroup") == [other_sg_rule, SG_RULE]
    assert catalog.find_by_resource_type("AWS::EC2::Snapshot") == [VOLUME_RULE]
    # S3_RULE lists no ResourceTypes: it is never a candidate by type.
    assert catalog.find_by_resource_type("AWS::S3::Bucket") == []


def test_find_by_resource_type_sees_a_rule_given_its_types_later(catalog: RuleCatalog) -> None:
    catalog.add(S3_RULE)
    assert catalog.find_by_resource_type("AWS::S3::Bucket") == []

    typed = Rule(
        S3_RULE.rule_id,
        S3_RULE.name,
        S3_RULE.exception_format,
        S3_RULE.exception_type,
        frozenset({"AWS::S3::Bucket"}),
    )
    catalog.add(typed)

    assert catalog.find_by_resource_type("AWS::S3::Bucket") == [typed]
