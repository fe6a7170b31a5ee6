"""An exception is closed only when AWS Config returns the resource with a deletion time,
wherever in a paginated answer it is (docs/behaviour.md); otherwise nothing is written."""

from __future__ import annotations

import pytest
from aws_wire import (
    ACCOUNT_A,
    CONFIG_LIST,
    ConfigResource,
    FakeLambdaContext,
    LogCapture,
    WiredAws,
    deletion,
    failed_ids,
    seed_estate,
    sqs_event,
)

from entrypoints.lambda_handler import handler


def _outcomes(log: LogCapture) -> list[str]:
    return [line["outcome"] for line in log.lines() if "outcome" in line]


@pytest.mark.moto
@pytest.mark.parametrize(
    "answer",
    [ConfigResource(deleted=False), None, ConfigResource(deleted=False, page=3)],
    ids=["returned-without-deletion-time", "not-returned", "live-on-a-later-page"],
)
def test_a_resource_config_does_not_report_deleted_is_not_confirmed_and_nothing_is_written(
    wired: WiredAws, captured_log: LogCapture, answer: ConfigResource | None
) -> None:
    seed_estate(wired)
    if answer is None:
        del wired.wire.config["sg-a1"]
    else:
        wired.wire.config["sg-a1"] = answer
    before = wired.item(f"{ACCOUNT_A}_1", "sg-a1")

    response = handler(sqs_event(deletion(ACCOUNT_A, "sg-a1")), FakeLambdaContext())

    assert failed_ids(response) == []  # acknowledged: Config has spoken
    assert _outcomes(captured_log) == ["not-confirmed"]
    assert wired.writes() == 0
    assert wired.item(f"{ACCOUNT_A}_1", "sg-a1") == before
    assert wired.wire.calls[CONFIG_LIST] >= 1


@pytest.mark.moto
@pytest.mark.parametrize("page", [2, 3])
def test_a_deleted_resource_on_a_later_page_of_the_answer_is_found_and_closed(
    wired: WiredAws, captured_log: LogCapture, page: int
) -> None:
    seed_estate(wired)
    wired.wire.config["sg-a1"] = ConfigResource(deleted=True, page=page)

    response = handler(sqs_event(deletion(ACCOUNT_A, "sg-a1")), FakeLambdaContext())

    assert failed_ids(response) == []
    assert _outcomes(captured_log) == ["closed"]
    assert wired.wire.calls[CONFIG_LIST] == page  # followed nextToken page by page
    item = wired.item(f"{ACCOUNT_A}_1", "sg-a1")
    assert item is not None
    assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
