"""Helpers of the reliability tests: independent clients, and the writes they made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from attrs import define, field

from adapters.aws import AwsClients

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["EXCEPTIONS_TABLE", "RULES_TABLE", "WriteLog", "new_dynamodb_clients"]

EXCEPTIONS_TABLE = "Reliability-ResourceExceptions"
RULES_TABLE = "Reliability-Master"


@define
class WriteLog:
    """Every UpdateItem or PutItem that DynamoDB accepted (its condition held), by any client.

    A write is counted when its response is a success, so a write that lost its condition
    is not; the expression says what it set (``#ttl`` when it wrote the TTL).
    """

    writes: list[tuple[str, str, str]] = field(factory=list)

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.*", self._note)
        client.meta.events.register("after-call.dynamodb.*", self._record)

    def _note(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["elm_write"] = (
            str(params.get("TableName", "")),
            str(params.get("UpdateExpression", "")),
        )

    def _record(self, http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name in ("UpdateItem", "PutItem") and http_response.status_code == 200:
            table, expression = context.get("elm_write", ("", ""))
            self.writes.append((model.name, table, expression))  # list.append is atomic

    def ttl_writes(self, table: str) -> int:
        """How many accepted writes to ``table`` set the TTL."""
        return sum(
            1 for _, t, expression in list(self.writes) if t == table and "#ttl" in expression
        )

    def count(self, table: str) -> int:
        """How many writes to ``table`` were accepted."""
        return sum(1 for _, t, _ in list(self.writes) if t == table)

    def clear(self) -> None:
        self.writes.clear()


def new_dynamodb_clients(endpoint: str, count: int) -> list[DynamoDBClient]:
    """``count`` DynamoDB clients on ``endpoint``, each with its own connection pool.

    Made one after another from one session (boto3 sessions are not thread-safe), which
    shares the loaded service model and keeps them cheap; each worker then owns one.
    """
    # Fake credentials of their own: these clients outlive any one test's environment.
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return [
        AwsClients(session, region_name="us-east-1", endpoint_url=endpoint).dynamodb()
        for _ in range(count)
    ]
