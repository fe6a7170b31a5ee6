"""A message that failed until SQS parked it in the DLQ is applied exactly once when replayed
with `elm process` after its cause is fixed; replaying it again changes nothing.

The queue and its DLQ are moto's SQS with the production redrive shape (here
maxReceiveCount 2, visibility 0 so redelivery is immediate); the DLQ is dumped as
`aws sqs receive-message` prints it, the way an operator would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_wire import (
    ACCOUNT_A,
    ACCOUNT_B,
    FakeLambdaContext,
    WiredAws,
    deletion,
    failed_ids,
    seed_estate,
)
from injector import Injector
from typer.testing import CliRunner

from adapters.aws import AwsClients
from entrypoints.cli import app
from entrypoints.cli import process as process_command
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.lambda_handler import handler

MAX_RECEIVES = 2


def _lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for m in messages
        ]
    }


@pytest.mark.moto
def test_a_dlq_message_replayed_with_elm_process_after_the_fix_is_applied_once(
    wired: WiredAws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seed_estate(wired)
    sqs = wired.session.client("sqs", region_name="us-east-1")
    dlq_url = sqs.create_queue(QueueName="elm-events-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="elm-events",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    for group, account in (("sg-a1", ACCOUNT_A), ("sg-b1", ACCOUNT_B)):
        sqs.send_message(QueueUrl=queue_url, MessageBody=deletion(account, group))
    # The cause: the Config role in account A denies ELM.
    wired.wire.fail(
        "sts.AssumeRole", "AccessDenied", lambda p: f"::{ACCOUNT_A}:" in p.get("RoleArn", "")
    )

    # The event source mapping: receive, run the handler, delete what succeeded.
    for _ in range(MAX_RECEIVES + 1):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            break
        failed = failed_ids(handler(_lambda_event(messages), FakeLambdaContext()))
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    dump = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["detail"]["resourceId"] for m in dump["Messages"]] == ["sg-a1"]
    parked = wired.item(f"{ACCOUNT_A}_1", "sg-a1")
    assert parked is not None
    assert parked["ExceptionStatus"] == {"S": "ACTIVE"}
    dump_file = tmp_path / "dlq.json"
    dump_file.write_text(json.dumps({"Messages": dump["Messages"]}, default=str))

    wired.wire.heal()  # the role is fixed
    monkeypatch.setattr(process_command, "container_for", _on(wired))
    runner = CliRunner()
    replay = runner.invoke(app, ["process", "--json", str(dump_file)])
    again = runner.invoke(app, ["process", "--json", str(dump_file)])

    assert replay.exit_code == 0, replay.output
    assert [r["outcome"] for r in json.loads(replay.stdout)] == ["closed"]
    assert again.exit_code == 0, again.output
    assert [r["outcome"] for r in json.loads(again.stdout)] == ["duplicate"]
    item = wired.item(f"{ACCOUNT_A}_1", "sg-a1")
    assert item is not None
    assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
    assert [e["M"]["Action"]["S"] for e in item["History"]["L"]] == ["closed"]


def _on(wired: WiredAws) -> Any:
    def container_for(settings: Settings) -> Injector:
        tables = Settings(
            exceptions_table=wired.settings.exceptions_table,
            rules_table=wired.settings.rules_table,
            dry_run=settings.dry_run,
        )
        return build_container(AwsModule(tables, clients=AwsClients(wired.session)))

    return container_for
