"""Rules are found by name through an index; two rules of one name resolve to the first."""

from __future__ import annotations

from domain.rules import ExceptionFormat, ExceptionType, Rule, rules_by_name, rules_by_resource_type


def _rule(rule_id: int, name: str) -> Rule:
    return Rule(rule_id, name, ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)


def test_every_rule_is_found_by_its_name() -> None:
    rules = [_rule(1, "sg-open"), _rule(2, "ebs-encrypted")]

    index = rules_by_name(rules)

    assert index == {"sg-open": rules[0], "ebs-encrypted": rules[1]}


def test_of_two_rules_sharing_a_name_the_first_wins() -> None:
    first, second = _rule(1, "sg-open"), _rule(2, "sg-open")

    assert rules_by_name([first, second])["sg-open"] is first
    assert rules_by_name([second, first])["sg-open"] is second


def test_rules_are_indexed_by_each_of_their_resource_types_in_rule_id_order() -> None:
    sg = Rule(
        5, "sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({"AWS::EC2::SG"})
    )
    both = Rule(
        2,
        "both",
        ExceptionFormat.RESOURCE_ID,
        ExceptionType.SIMPLE,
        frozenset({"AWS::EC2::SG", "AWS::EC2::Volume"}),
    )
    untyped = _rule(1, "untyped")

    index = rules_by_resource_type([sg, untyped, both])

    assert index == {"AWS::EC2::SG": (both, sg), "AWS::EC2::Volume": (both,)}
