"""A poison message fails only its own record, with a one-line reason in the log; the rest of
the batch is applied. A Lambda event that is not an SQS batch fails the invocation loudly.

docs/behaviour.md: an invalid record is reported in `batchItemFailures`, so SQS retries it and then
parks it in the DLQ: nothing is dropped silently, and nothing else is held up by it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_wire import (
    ACCOUNT_A,
    ACCOUNT_B,
    REGION,
    SG,
    SG_RULE,
    FakeLambdaContext,
    LogCapture,
    WiredAws,
    deletion,
    failed_ids,
    seed_estate,
    sqs_event,
)

from entrypoints.aws_lambda.sqs_events import NotAnSqsBatch
from entrypoints.lambda_handler import handler
from entrypoints.local.sample_events import deletion_event

MAX_SQS_BODY = 256 * 1024


def _event(**detail: Any) -> dict[str, Any]:
    event = deletion_event(
        account_id=ACCOUNT_A,
        region=REGION,
        rule_name=SG_RULE,
        resource_type=SG,
        resource_id="sg-poison",
        event_id="evt-poison",
    )
    event["detail"].update(detail)
    return event


def _without(path: str) -> str:
    event = _event()
    *parents, leaf = path.split(".")
    target = event
    for parent in parents:
        target = target[parent]
    del target[leaf]
    return json.dumps(event)


def _padded_to_limit(body_prefix: str) -> str:
    return body_prefix + "x" * (MAX_SQS_BODY - len(body_prefix))


POISON = {
    "not-json": "{'id': 'evt', not json",
    "empty-body": "",
    "json-array": json.dumps([_event()]),
    "json-string": json.dumps("a deletion event"),
    "json-null": "null",
    "json-number": "12",
    "deeply-nested": "[" * 100_000 + "]" * 100_000,
    "missing-detail": _without("detail"),
    "missing-resource-id": _without("detail.resourceId"),
    "missing-account": _without("detail.awsAccountId"),
    "account-as-number": json.dumps(_event(awsAccountId=111122223333)),
    "resource-id-as-list": json.dumps(_event(resourceId=["sg-1"])),
    "detail-as-string": json.dumps({**_event(), "detail": "sg-1"}),
    "resource-id-with-newline": json.dumps(_event(resourceId="sg-1\nFORGED LOG LINE")),
    "resource-id-with-nul": json.dumps(_event(resourceId="sg-1\x00")),
    "resource-id-with-escape": json.dumps(_event(resourceId="sg-1\x1b[31m")),
    "resource-id-of-256-kb": json.dumps(_event(resourceId="sg-" + "1" * (MAX_SQS_BODY - 2048))),
    "body-of-256-kb-not-json": _padded_to_limit("not json "),
    "invalid-utf8-surrogate": '{"id": "\\ud800", "detail": {}}',
}


@pytest.mark.moto
@pytest.mark.parametrize("case", POISON)
def test_a_poison_message_fails_only_its_record_with_a_one_line_reason_and_the_batch_is_applied(
    wired: WiredAws, captured_log: LogCapture, case: str
) -> None:
    seed_estate(wired)
    response = handler(
        sqs_event(deletion(ACCOUNT_A, "sg-a1"), POISON[case], deletion(ACCOUNT_B, "sg-b1")),
        FakeLambdaContext(),
    )

    assert failed_ids(response) == ["m1"]
    for account, group in ((ACCOUNT_A, "sg-a1"), (ACCOUNT_B, "sg-b1")):
        item = wired.item(f"{account}_1", group)
        assert item is not None
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
    poison = [line for line in captured_log.raw_lines() if '"message_id":"m1"' in line]
    assert len(poison) == 1, "one log line for the poison record"
    fields = json.loads(poison[0])
    assert fields["outcome"] == "invalid"
    assert fields["level"] == "ERROR"
    reason = fields["reason"]
    assert reason
    assert "\n" not in reason
    assert "\r" not in reason
    assert len(reason) < 300, "the reason names the problem without echoing the body"
    assert len(poison[0]) < 4096


@pytest.mark.moto
@pytest.mark.parametrize(
    "resource_id",
    ["sg-0\u0430bc", "sg-ü", "\u0432\u0435\u0434\u0440\u043e", "sg-0abc\u200b", "sg-\U0001f600"],
    ids=["homoglyph", "latin-1", "cyrillic", "zero-width", "emoji"],
)
def test_unicode_in_an_id_is_handled_as_text_and_never_matches_a_lookalike(
    wired: WiredAws, captured_log: LogCapture, resource_id: str
) -> None:
    seed_estate(wired)
    wired.wire.config[resource_id] = wired.wire.config["sg-a1"]

    response = handler(sqs_event(deletion(ACCOUNT_A, resource_id)), FakeLambdaContext())

    assert failed_ids(response) == []
    assert [line["outcome"] for line in captured_log.lines() if "outcome" in line] == ["no-match"]
    assert wired.writes() == 0


NOT_SQS = {
    "empty-object": {},
    "records-null": {"Records": None},
    "records-object": {"Records": {"messageId": "m0", "body": "{}"}},
    "a-list": [{"messageId": "m0", "body": "{}"}],
    "a-string": "Records",
    "null": None,
    "record-without-body": {"Records": [{"messageId": "m0"}]},
    "record-without-id": {"Records": [{"body": "{}"}]},
    "record-not-object": {"Records": ["{}"]},
    "eventbridge-event": deletion_event(
        account_id=ACCOUNT_A,
        region=REGION,
        rule_name=SG_RULE,
        resource_type=SG,
        resource_id="sg-a1",
    ),
}


@pytest.mark.moto
@pytest.mark.parametrize("case", NOT_SQS)
def test_a_lambda_event_that_is_not_an_sqs_batch_fails_the_invocation_with_a_clear_error(
    wired: WiredAws, case: str
) -> None:
    seed_estate(wired)

    with pytest.raises(NotAnSqsBatch) as raised:
        handler(NOT_SQS[case], FakeLambdaContext())  # type: ignore[arg-type]

    message = str(raised.value)
    assert message
    assert "\n" not in message
    assert wired.writes() == 0
    assert wired.wire.calls["sts.AssumeRole"] == 0
