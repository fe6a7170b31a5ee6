"""The handler end to end on emulated AWS: the real AwsModule wiring from the environment,
DynamoDB tables and STS on moto, AWS Config answered on the wire (see emulated_aws.py)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from emulated_aws import EmulatedAws, WireSpy, stored_item
from sample_estate import ACCOUNT, BUCKET_KEY, SG_KEY, FakeLambdaContext, LogCapture, load_event

from adapters.aws import AwsClients
from entrypoints import lambda_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings

MALFORMED_MESSAGE = "e9b0d6a3-4c2f-4e8b-a1d7-3f5c9e2b8a64"


@pytest.fixture
def on_aws(emulated_aws: EmulatedAws) -> Iterator[WireSpy]:
    """The handler wired the Lambda's way, from the environment, to the emulated AWS."""
    lambda_handler.use_container_factory(
        lambda: build_container(
            AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
        )
    )
    yield emulated_aws.spy
    lambda_handler.use_container_factory(None)


def test_the_sample_batch_closes_both_exceptions_and_fails_only_the_malformed_record(
    on_aws: WireSpy, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    batch = load_event("lambda/sqs-batch.json")

    response = lambda_handler.handler(batch, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": MALFORMED_MESSAGE}]}
    event_ids = [load_event(n)["id"] for n in ("deleted-simple-id.json", "deleted-arn-s3.json")]
    for key, event_id in zip((SG_KEY, BUCKET_KEY), event_ids, strict=True):
        item = stored_item(key)
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert item["LastModifiedBy"] == {"S": "ELM_AUTOMATION"}
        assert "TTL" in item
        assert [e["M"]["EventId"]["S"] for e in item["History"]["L"]] == [event_id]
    # One role, assumed once, in the one genuine account: never for the forged event.
    assert on_aws.assumed == Counter({f"arn:aws:iam::{ACCOUNT}:role/Role-Config-Mgmt": 1})
    assert [(r["resourceIds"], r["includeDeletedResources"]) for r in on_aws.config_requests] == [
        ([SG_KEY.key], True),
        (["elm-audit-logs-eu"], True),
    ]
    assert [line["outcome"] for line in captured_log.lines()] == [
        "closed",
        "closed",
        "ignored",
        "rejected",
        "invalid",
    ]


def test_the_same_batch_delivered_again_is_a_duplicate_and_writes_nothing(
    on_aws: WireSpy, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    batch = load_event("lambda/sqs-batch.json")
    lambda_handler.handler(batch, lambda_context)
    before = [stored_item(SG_KEY), stored_item(BUCKET_KEY)]

    lambda_handler.handler(batch, lambda_context)

    assert [stored_item(SG_KEY), stored_item(BUCKET_KEY)] == before
    outcomes = [line["outcome"] for line in captured_log.lines()]
    assert outcomes[5:7] == ["duplicate", "duplicate"]
    assert sum(on_aws.assumed.values()) == 1
