"""The local pipeline's waves: no two events for the same account, region and rule in one."""

from __future__ import annotations

from entrypoints.local.pipeline import OutgoingEvent, waves
from entrypoints.local.scenario import ScenarioEvent


def _event(number: int, account: str, region: str, rule: str) -> OutgoingEvent:
    return OutgoingEvent(
        number=number,
        event=ScenarioEvent(f"events[{number - 1}]", "{}"),
        account_id=account,
        region=region,
        rule_name=rule,
        resource_type="AWS::EC2::SecurityGroup",
        resource_id="sg-1",
        source="aws.config",
        detail_type="Config Rules Compliance Change",
        detail="{}",
    )


def _numbers(plan: list[list[OutgoingEvent]]) -> list[list[int]]:
    return [[e.number for e in wave] for wave in plan]


def test_events_for_different_exceptions_share_a_wave() -> None:
    plan = waves(
        [
            _event(1, "111122223333", "eu-west-1", "sg"),
            _event(2, "111122223333", "eu-west-1", "s3"),
            _event(3, "111122223333", "us-east-1", "sg"),
            _event(4, "444455556666", "eu-west-1", "sg"),
        ]
    )

    assert _numbers(plan) == [[1, 2, 3, 4]]


def test_a_second_event_for_the_same_account_region_and_rule_starts_a_new_wave() -> None:
    plan = waves(
        [
            _event(1, "111122223333", "eu-west-1", "sg"),
            _event(2, "444455556666", "eu-west-1", "sg"),
            _event(3, "111122223333", "eu-west-1", "sg"),
            _event(4, "444455556666", "eu-west-1", "sg"),
            _event(5, "111122223333", "eu-west-1", "s3"),
        ]
    )

    assert _numbers(plan) == [[1, 2], [3, 4, 5]]


def test_no_events_make_no_waves() -> None:
    assert waves([]) == []
