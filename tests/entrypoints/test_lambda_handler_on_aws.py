"""The handler end to end on emulated AWS: the real AwsModule wiring from the environment,
DynamoDB tables and STS on moto, and AWS Config answered on the wire.

moto's Config ignores `includeDeletedResources` (a deleted resource just disappears), so a
`before-call` hook answers ListDiscoveredResources with the real service's response shape,
after the real client, made with the assumed role's credentials, has built the request.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from sample_estate import (
    ACCOUNT,
    BUCKET_KEY,
    REGION,
    SG_KEY,
    FakeLambdaContext,
    LogCapture,
    load_event,
)

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog, create_tables
from domain.records import ExceptionRecord
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints import lambda_handler
from entrypoints.container import AwsModule, build_container
from entrypoints.settings import Settings

EXCEPTIONS_TABLE = "E2E-ResourceExceptions"
RULES_TABLE = "E2E-Master"
MALFORMED_MESSAGE = "e9b0d6a3-4c2f-4e8b-a1d7-3f5c9e2b8a64"
DELETED_IDS = {SG_KEY.key, "elm-audit-logs-eu"}


class WireSpy:
    """Counts STS calls by role ARN and answers Config as the real service would."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.assumed: Counter[str] = Counter()
        self.config_requests: list[dict[str, Any]] = []
        session.events.register("provide-client-params.sts.AssumeRole", self._assume)
        session.events.register(
            "provide-client-params.config.ListDiscoveredResources", self._note_config
        )
        session.events.register("before-call.config.ListDiscoveredResources", self._answer)

    def _assume(self, params: dict[str, Any], **_: Any) -> None:
        self.assumed[params["RoleArn"]] += 1

    def _note_config(self, params: dict[str, Any], **_: Any) -> None:
        self.config_requests.append(dict(params))

    def _answer(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = self.config_requests[-1]
        items = [
            {
                "resourceType": request["resourceType"],
                "resourceId": resource_id,
                "resourceName": resource_id,
                "resourceDeletionTime": datetime(2026, 3, 4, 10, 15, 2, tzinfo=UTC),
            }
            for resource_id in request["resourceIds"]
            if resource_id in DELETED_IDS
        ]
        return AWSResponse("", 200, {}, None), {"resourceIdentifiers": items}


@pytest.fixture
def on_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[WireSpy]:
    """The tables on moto, seeded for the sample events; the handler wired from the environment."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ELM_EXCEPTIONS_TABLE": EXCEPTIONS_TABLE,
        "ELM_RULES_TABLE": RULES_TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "ELM_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        session = boto3.session.Session()
        spy = WireSpy(session)
        seed = AwsClients(session).dynamodb()
        create_tables(seed, EXCEPTIONS_TABLE, RULES_TABLE)
        rules = DynamoRuleCatalog(seed, RULES_TABLE)
        rules.add(
            Rule(1, "prod-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
        )
        rules.add(
            Rule(2, "prod-s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE)
        )
        store = DynamoExceptionStore(seed, EXCEPTIONS_TABLE)
        store.add(ExceptionRecord(SG_KEY, REGION))
        store.add(ExceptionRecord(BUCKET_KEY, REGION, status="EXPIRED"))
        lambda_handler.use_container_factory(
            lambda: build_container(
                AwsModule(Settings.from_env(os.environ), clients=AwsClients(session))
            )
        )
        yield spy
        lambda_handler.use_container_factory(None)


def _item(key: Any) -> dict[str, Any]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    item: dict[str, Any] = client.get_item(
        TableName=EXCEPTIONS_TABLE,
        Key={"AccountId_RuleId": {"S": key.partition_key}, "Exception": {"S": key.key}},
        ConsistentRead=True,
    )["Item"]
    return item


def test_the_sample_batch_closes_both_exceptions_and_fails_only_the_malformed_record(
    on_aws: WireSpy, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    batch = load_event("sqs-batch.json")

    response = lambda_handler.handler(batch, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": MALFORMED_MESSAGE}]}
    event_ids = [load_event(n)["id"] for n in ("deleted-simple-id.json", "deleted-arn-s3.json")]
    for key, event_id in zip((SG_KEY, BUCKET_KEY), event_ids, strict=True):
        item = _item(key)
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
    batch = load_event("sqs-batch.json")
    lambda_handler.handler(batch, lambda_context)
    before = [_item(SG_KEY), _item(BUCKET_KEY)]

    lambda_handler.handler(batch, lambda_context)

    assert [_item(SG_KEY), _item(BUCKET_KEY)] == before
    outcomes = [line["outcome"] for line in captured_log.lines()]
    assert outcomes[5:7] == ["duplicate", "duplicate"]
    assert sum(on_aws.assumed.values()) == 1
