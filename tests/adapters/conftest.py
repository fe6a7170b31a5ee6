"""Fixtures for the adapter tests: moto's in-process AWS, the two tables, a call log, and a
session of stubbed clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from attrs import define, field
from boto_sessions import StubbedSession
from moto import mock_aws

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog, create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXCEPTIONS_TABLE = "Test-ResourceExceptions"
RULES_TABLE = "Test-Master"


@define
class CallLog:
    """The DynamoDB operations a client made, with the table each one named."""

    calls: list[tuple[str, str]] = field(factory=list)

    def note_table(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # `before-call` sees the serialised request; the API parameters come earlier. A
        # batch call names its tables in `RequestItems`: the table, when it names one.
        tables = list(params.get("RequestItems") or ())
        table = params.get("TableName") or (tables[0] if len(tables) == 1 else "")
        context["elm_table"] = str(table)

    def record(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, str(context.get("elm_table", ""))))

    def count(self, operation: str, table: str | None = None) -> int:
        return sum(1 for op, t in self.calls if op == operation and table in (None, t))

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.fixture
def moto(aws_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(moto: None) -> DynamoDBClient:
    """A DynamoDB client on moto, with both tables created."""
    client = AwsClients().dynamodb()
    create_tables(client, EXCEPTIONS_TABLE, RULES_TABLE)
    return client


@pytest.fixture
def call_log(dynamodb: DynamoDBClient) -> CallLog:
    """Every call the ``dynamodb`` client makes from now on."""
    log = CallLog()
    dynamodb.meta.events.register("before-parameter-build.dynamodb.*", log.note_table)
    dynamodb.meta.events.register("before-call.dynamodb.*", log.record)
    return log


@pytest.fixture
def dynamo_store(dynamodb: DynamoDBClient) -> DynamoExceptionStore:
    return DynamoExceptionStore(dynamodb, EXCEPTIONS_TABLE)


@pytest.fixture
def dynamo_catalog(dynamodb: DynamoDBClient) -> DynamoRuleCatalog:
    return DynamoRuleCatalog(dynamodb, RULES_TABLE)


@pytest.fixture
def stubbed_session() -> Iterator[StubbedSession]:
    """A session of Stubber-backed clients; fails the test if a queued response went unused."""
    session = StubbedSession()
    yield session
    session.assert_no_pending_responses()
