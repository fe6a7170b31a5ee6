"""The handler asks AWS Config once for a batch's resources of one account, region and type."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from attrs import define
from emulated_aws import EXCEPTIONS_TABLE, EmulatedAws, WireSpy
from sample_estate import ACCOUNT, REGION, FakeLambdaContext, LogCapture, Wiring

from adapters.aws import AwsClients
from adapters.aws.dynamo_store import DynamoExceptionStore
from adapters.in_memory import InMemoryExceptionStore
from domain.records import ExceptionRecord, RecordKey
from entrypoints import lambda_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.local.sample_events import deletion_event

SG = "AWS::EC2::SecurityGroup"
SG_RULE = "prod-sg-no-open-ingress"
IDS = [f"sg-0batch{n:012d}" for n in range(10)]


def _sqs_batch(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"r-{n}",
                "body": json.dumps(event),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:elm-events",
                "awsRegion": REGION,
            }
            for n, event in enumerate(events)
        ]
    }


def _deletions(*, forged: str | None = None) -> list[dict[str, Any]]:
    events = [
        deletion_event(
            account_id=ACCOUNT, region=REGION, rule_name=SG_RULE, resource_type=SG, resource_id=i
        )
        for i in IDS
    ]
    if forged is not None:
        events.append(events[0] | {"account": forged})
    return events


def test_a_batch_of_ten_events_of_one_type_makes_one_config_call(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    for resource_id in IDS:
        wiring.estate.store.add(ExceptionRecord(RecordKey(ACCOUNT, 1, resource_id), REGION))
        wiring.estate.inventory.put(ACCOUNT, REGION, SG, resource_id, deleted=True)

    response = lambda_handler.handler(_sqs_batch(*_deletions()), lambda_context)

    assert response == {"batchItemFailures": []}
    assert [c.resource_ids for c in wiring.estate.inventory.calls] == [tuple(IDS)]
    assert [line["outcome"] for line in captured_log.lines()] == ["closed"] * 10


def test_each_invocation_asks_config_afresh(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    wiring.estate.store.add(ExceptionRecord(RecordKey(ACCOUNT, 1, IDS[0]), REGION))
    wiring.estate.inventory.put(ACCOUNT, REGION, SG, IDS[0])
    batch = _sqs_batch(*_deletions()[:1])

    lambda_handler.handler(batch, lambda_context)
    wiring.estate.inventory.delete(ACCOUNT, REGION, SG, IDS[0])
    lambda_handler.handler(batch, lambda_context)

    assert [line["outcome"] for line in captured_log.lines()] == ["not-confirmed", "closed"]
    assert len(wiring.estate.inventory.calls) == 2


@pytest.fixture
def on_aws(emulated_aws: EmulatedAws) -> Iterator[WireSpy]:
    """The handler wired the Lambda's way, from the environment, to the emulated AWS."""
    lambda_handler.use_container_factory(
        lambda: build_container(
            AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
        )
    )
    store = DynamoExceptionStore(AwsClients(emulated_aws.session).dynamodb(), EXCEPTIONS_TABLE)
    for resource_id in IDS:
        store.add(ExceptionRecord(RecordKey(ACCOUNT, 1, resource_id), REGION))
    emulated_aws.spy.live.update(IDS)
    yield emulated_aws.spy
    lambda_handler.use_container_factory(None)


def test_on_aws_a_batch_makes_one_config_call_and_no_role_for_a_forged_event(
    on_aws: WireSpy, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    forged_account = "999988887777"

    response = lambda_handler.handler(
        _sqs_batch(*_deletions(forged=forged_account)), lambda_context
    )

    assert response == {"batchItemFailures": []}
    assert [r["resourceIds"] for r in on_aws.config_requests] == [IDS]
    assert on_aws.assumed == Counter({f"arn:aws:iam::{ACCOUNT}:role/Role-Config-Mgmt": 1})
    outcomes = [line["outcome"] for line in captured_log.lines()]
    assert outcomes == ["not-confirmed"] * 10 + ["rejected"]


@define
class _BrokenPartitionStore(InMemoryExceptionStore):
    """Raises an error no outcome names when one account's records are read."""

    broken_account: str = "999988887777"

    def list_for(self, account_id: str, rule_id: int) -> list[ExceptionRecord]:
        if account_id == self.broken_account:
            raise RuntimeError("unexpected")
        return super().list_for(account_id, rule_id)


def test_an_unexpected_error_while_planning_fails_only_its_own_record(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    broken = _BrokenPartitionStore()
    wiring.estate.store = broken
    broken.add(ExceptionRecord(RecordKey(ACCOUNT, 1, IDS[0]), REGION))
    wiring.estate.inventory.put(ACCOUNT, REGION, SG, IDS[0], deleted=True)
    events = _deletions()[:1]
    events.append(
        deletion_event(
            account_id=broken.broken_account,
            region=REGION,
            rule_name=SG_RULE,
            resource_type=SG,
            resource_id=IDS[1],
        )
    )

    response = lambda_handler.handler(_sqs_batch(*events), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert [line["outcome"] for line in captured_log.lines()] == ["closed", "failed"]
