"""An exception item ELM cannot read fails the record (retried, then DLQ), not the batch."""

from __future__ import annotations

import pytest

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from application.errors import RecordFormatError
from application.handle_change import HandleComplianceChange, Policy
from domain.outcomes import Outcome
from domain.records import ExceptionRecord
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event


class UnreadableStore(InMemoryExceptionStore):
    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        raise RecordFormatError("item 111122223333_7/sg-1: attribute RuleId is not a number")


def test_an_unreadable_item_fails_the_record_with_the_reason() -> None:
    rules = InMemoryRuleCatalog()
    rules.add(Rule(7, "sg-rule", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
    store = UnreadableStore()
    handle = HandleComplianceChange(rules, store, InMemoryInventory(), FixedClock())

    result = handle.execute(
        deletion_event(
            account_id="111122223333",
            region="eu-west-1",
            rule_name="sg-rule",
            resource_type="AWS::EC2::SecurityGroup",
            resource_id="sg-1",
        )
    )

    assert result.outcome is Outcome.FAILED
    assert "RuleId is not a number" in result.reason
    assert store.writes == []


@pytest.mark.parametrize(("field", "value"), [("max_write_attempts", 0), ("retention_days", 0)])
def test_a_policy_that_could_never_write_is_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        Policy(**{field: value})
