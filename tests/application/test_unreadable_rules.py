"""One unreadable `Config-Master` item fails only the events that need it."""

from __future__ import annotations

from application.ports import UnreadableRule
from domain.outcomes import Outcome
from tests.application.estate import SG, SIMPLE_ID, event, new_estate

BROKEN = UnreadableRule("(RuleId=9)", "attribute ExceptionFormat is 'Resource Name'", "broken")


def test_events_of_readable_rules_are_handled_while_another_item_is_unreadable() -> None:
    estate = new_estate()
    estate.rules.add_unreadable(BROKEN)
    key = estate.exception(SIMPLE_ID, "sg-1")
    estate.deleted(SG, "sg-1")

    assert estate.run(event(SIMPLE_ID, SG, "sg-1")).outcome is Outcome.CLOSED
    assert estate.record(key).is_closed


def test_an_event_of_the_unreadable_rule_fails_naming_the_item() -> None:
    estate = new_estate()
    estate.rules.add_unreadable(BROKEN)
    body = event(SIMPLE_ID, SG, "sg-1")
    body["detail"]["configRuleName"] = "broken"

    result = estate.run(body)

    assert result.outcome is Outcome.FAILED
    assert "ExceptionFormat" in result.reason


def test_an_unknown_rule_fails_while_an_item_has_no_readable_name() -> None:
    # The nameless item may be the rule the event names: `ignored` would drop the event.
    estate = new_estate()
    estate.rules.add_unreadable(UnreadableRule("(RuleId=9)", "attribute RuleName is missing"))
    body = event(SIMPLE_ID, SG, "sg-1")
    body["detail"]["configRuleName"] = "not-registered"

    result = estate.run(body)

    assert result.outcome is Outcome.FAILED
    assert "(RuleId=9)" in result.reason


def test_an_unknown_rule_is_ignored_when_every_item_is_readable() -> None:
    estate = new_estate()
    body = event(SIMPLE_ID, SG, "sg-1")
    body["detail"]["configRuleName"] = "not-registered"

    assert estate.run(body).outcome is Outcome.IGNORED
