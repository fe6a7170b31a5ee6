"""Near its deadline the handler fails the records it has no time left for, before touching
them, instead of being killed halfway through one.

Lambda stops an invocation at its timeout without warning: a record cut off mid-way would
be neither reported nor finished. So before each record the handler asks the context for
the time left and, under the margin (``ELM_DEADLINE_MARGIN_SECONDS``, 10 s by default),
reports the record failed without starting it; SQS delivers it again.
"""

from __future__ import annotations

import pytest
from attrs import evolve
from aws_wire import (
    ACCOUNT_A,
    ACCOUNT_B,
    FakeLambdaContext,
    LogCapture,
    WiredAws,
    deletion,
    failed_ids,
    seed_estate,
    sqs_event,
)

from entrypoints.composition.settings import Settings, SettingsError
from entrypoints.lambda_handler import handler

BATCH = sqs_event(
    deletion(ACCOUNT_A, "sg-a1"), deletion(ACCOUNT_A, "sg-a2"), deletion(ACCOUNT_B, "sg-b1")
)


def _later_items(wired: WiredAws) -> list[object]:
    return [wired.item(f"{ACCOUNT_A}_1", "sg-a2"), wired.item(f"{ACCOUNT_B}_1", "sg-b1")]


@pytest.mark.moto
def test_records_the_handler_has_no_time_for_are_failed_untouched_and_applied_on_redelivery(
    wired: WiredAws, captured_log: LogCapture
) -> None:
    seed_estate(wired)
    before = _later_items(wired)

    # 60 s left before the first record, then 9.9 s: under the 10 s margin.
    response = handler(BATCH, FakeLambdaContext([60_000, 9_900]))

    assert failed_ids(response) == ["m1", "m2"]
    first = wired.item(f"{ACCOUNT_A}_1", "sg-a1")
    assert first is not None
    assert first["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
    assert _later_items(wired) == before
    assert wired.wire.calls["config.ListDiscoveredResources"] == 1  # only for sg-a1
    assert not any(f"::{ACCOUNT_B}:" in p.get("RoleArn", "") for _, p in wired.wire.requests)
    lines = [line for line in captured_log.lines() if "outcome" in line]
    assert [(line["message_id"], line["outcome"]) for line in lines] == [
        ("m0", "closed"),
        ("m1", "failed"),
        ("m2", "failed"),
    ]
    assert "time" in lines[1]["reason"]

    retry = handler(BATCH, FakeLambdaContext([60_000]))

    assert failed_ids(retry) == []
    for account, group in ((ACCOUNT_A, "sg-a1"), (ACCOUNT_A, "sg-a2"), (ACCOUNT_B, "sg-b1")):
        item = wired.item(f"{account}_1", group)
        assert item is not None
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert len(item["History"]["L"]) == 1


@pytest.mark.moto
def test_the_deadline_margin_is_configurable(wired: WiredAws) -> None:
    seed_estate(wired)
    wired.settings = evolve(wired.settings, deadline_margin_seconds=2)

    response = handler(BATCH, FakeLambdaContext([5_000, 5_000, 1_999]))

    assert failed_ids(response) == ["m2"]


@pytest.mark.parametrize(
    ("raw", "seconds"), [(None, 10), ("", 10), ("3", 3), (" 0 ", 0), ("30", 30)]
)
def test_the_margin_is_read_from_elm_deadline_margin_seconds(raw: str | None, seconds: int) -> None:
    env = {} if raw is None else {"ELM_DEADLINE_MARGIN_SECONDS": raw}
    assert Settings.from_env(env).deadline_margin_seconds == seconds


@pytest.mark.parametrize("raw", ["ten", "-1", "1.5", "901"])
def test_a_bad_margin_stops_the_start_naming_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="ELM_DEADLINE_MARGIN_SECONDS"):
        Settings.from_env({"ELM_DEADLINE_MARGIN_SECONDS": raw})
