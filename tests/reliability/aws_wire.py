"""ELM's AWS traffic under test control: moto for DynamoDB and STS, AWS Config answered on the
wire as the real service answers, and faults injected into any call.

moto's Config ignores `includeDeletedResources` (a deleted resource just disappears), so
`Wire` answers ListDiscoveredResources itself, after the real client, made with the assumed
role's credentials, has built and validated the request. Faults are botocore `before-call`
answers: an AWS error response (parsed and raised by botocore exactly like a real one) or a
botocore exception (a timeout). Every call is counted, so a test can prove one never happened.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from attrs import define, field
from botocore.awsrequest import AWSResponse

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

__all__ = [
    "ACCOUNT_A",
    "ACCOUNT_B",
    "CONFIG_LIST",
    "ESTATE",
    "REGION",
    "SG",
    "SG_RULE",
    "ConfigResource",
    "FakeLambdaContext",
    "Fault",
    "LogCapture",
    "Wire",
    "WiredAws",
    "deletion",
    "failed_ids",
    "seed_estate",
    "sqs_event",
]

CONFIG_LIST = "config.ListDiscoveredResources"
_DELETED_AT = datetime(2026, 3, 4, 10, 15, 2, tzinfo=UTC)


@define
class ConfigResource:
    """What AWS Config reports of one resource, and on which page of the answer."""

    deleted: bool
    name: str | None = None
    page: int = 1


@define
class Fault:
    """An error returned for the calls of ``operation`` (``service.Operation``) that ``when``
    selects, at most ``times`` times (None: until removed)."""

    operation: str
    error: str | Exception
    when: Callable[[Mapping[str, Any]], bool] = lambda _params: True
    times: int | None = None


@define
class Wire:
    """Counts, answers and breaks the calls of every client made from one boto3 session."""

    calls: Counter[str] = field(factory=Counter)
    config: dict[str, ConfigResource] = field(factory=dict)
    faults: list[Fault] = field(factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(factory=list)

    def attach(self, session: boto3.session.Session) -> None:
        session.events.register("before-parameter-build", self._note)
        session.events.register("before-call", self._answer)

    def fail(
        self,
        operation: str,
        error: str | Exception,
        when: Callable[[Mapping[str, Any]], bool] | None = None,
        *,
        times: int | None = None,
    ) -> None:
        """Make matching calls of ``operation`` fail with ``error`` (an AWS error code or a
        botocore exception)."""
        self.faults.append(Fault(operation, error, when or (lambda _params: True), times))

    def forget(self) -> None:
        """Forget the calls made so far (the setup's)."""
        self.calls.clear()
        self.requests.clear()

    def heal(self) -> None:
        """Remove every fault: the cause is fixed."""
        self.faults.clear()

    def _note(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        context["elm_call"] = (name, dict(params))

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        name, params = context.get("elm_call", (f"?.{model.name}", {}))
        self.calls[name] += 1
        self.requests.append((name, params))
        for fault in self.faults:
            if fault.operation == name and fault.times != 0 and fault.when(params):
                if fault.times is not None:
                    fault.times -= 1
                if isinstance(fault.error, Exception):
                    raise fault.error
                return _error(fault.error)
        if name == CONFIG_LIST:
            return AWSResponse("", 200, {}, None), self._list(params)
        return None

    def _list(self, params: Mapping[str, Any]) -> dict[str, Any]:
        token = params.get("nextToken")
        page = int(token.removeprefix("page-")) if token else 1
        asked = [(i, self.config[i]) for i in params["resourceIds"] if i in self.config]
        items = [
            {
                "resourceType": params["resourceType"],
                "resourceId": resource_id,
                **({"resourceName": r.name} if r.name else {}),
                **({"resourceDeletionTime": _DELETED_AT} if r.deleted else {}),
            }
            for resource_id, r in asked
            if r.page == page
        ]
        answer: dict[str, Any] = {"resourceIdentifiers": items}
        if any(r.page > page for _, r in asked):
            answer["nextToken"] = f"page-{page + 1}"
        return answer


def _error(code: str) -> tuple[AWSResponse, dict[str, Any]]:
    status = 403 if "Denied" in code else 400
    parsed = {
        "Error": {"Code": code, "Message": f"injected {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return AWSResponse("", status, {}, None), parsed


@define
class FakeLambdaContext:
    """A Lambda context whose remaining time a test sets: ``remaining_ms`` is consumed one
    value per call, the last one repeating."""

    remaining_ms: list[int] = field(factory=lambda: [900_000])
    function_name: str = "elm-status-update"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:999900001111:function:elm-status-update"
    aws_request_id: str = "3f1e2d4c-5b6a-4789-8a0b-1c2d3e4f5a6b"

    def get_remaining_time_in_millis(self) -> int:
        if len(self.remaining_ms) > 1:
            return self.remaining_ms.pop(0)
        return self.remaining_ms[0]


@define
class LogCapture:
    """The handler's log output."""

    buffer: io.StringIO

    def raw_lines(self) -> list[str]:
        return [line for line in self.buffer.getvalue().splitlines() if line.strip()]

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw_lines()]


def sqs_event(*bodies: str) -> dict[str, Any]:
    """A Lambda SQS event with one record per body; message ids are ``m0``, ``m1``, ..."""
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:999900001111:elm-events",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


@define
class WiredAws:
    """The Lambda handler on moto (DynamoDB, STS) with Config and faults on `wire`."""

    session: boto3.session.Session
    wire: Wire
    settings: Any
    builds: int = 0

    def item(self, partition_key: str, key: str) -> dict[str, Any] | None:
        """The raw exception item, read consistently (None when absent)."""
        client = self.session.client("dynamodb", region_name="us-east-1")
        found: dict[str, Any] | None = client.get_item(
            TableName=self.settings.exceptions_table,
            Key={"AccountId_RuleId": {"S": partition_key}, "Exception": {"S": key}},
            ConsistentRead=True,
        ).get("Item")
        return found

    def writes(self) -> int:
        """Item writes sent to the exceptions table (accepted or not)."""
        return sum(
            1
            for name, params in self.wire.requests
            if name in ("dynamodb.UpdateItem", "dynamodb.PutItem")
            and params.get("TableName") == self.settings.exceptions_table
        )


ACCOUNT_A = "111122223333"
ACCOUNT_B = "444455556666"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
SG_RULE = "sg-open"
ESTATE = {ACCOUNT_A: ("sg-a1", "sg-a2"), ACCOUNT_B: ("sg-b1",)}


def seed_estate(aws: WiredAws) -> None:
    """Rule 1 (simple, resource ID); open exceptions sg-a1, sg-a2 in account A and sg-b1 in
    account B, all in eu-west-1; AWS Config reports each of them deleted."""
    client = aws.session.client("dynamodb", region_name="us-east-1")
    DynamoRuleCatalog(client, aws.settings.rules_table).add(
        Rule(1, SG_RULE, ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
    )
    store = DynamoExceptionStore(client, aws.settings.exceptions_table)
    for account, groups in ESTATE.items():
        for group in groups:
            store.add(ExceptionRecord(RecordKey(account, 1, group), region=REGION))
            aws.wire.config[group] = ConfigResource(deleted=True)
    aws.wire.forget()


def deletion(
    account: str,
    resource_id: str,
    *,
    resource_type: str = SG,
    rule: str = SG_RULE,
    event_id: str | None = None,
) -> str:
    """The SQS body of a deletion event about ``resource_id``."""
    return json.dumps(
        deletion_event(
            account_id=account,
            region=REGION,
            rule_name=rule,
            resource_type=resource_type,
            resource_id=resource_id,
            event_id=event_id or f"evt-{resource_id}",
        )
    )


def failed_ids(response: Mapping[str, Any]) -> list[str]:
    """The message ids a handler response reports as failed."""
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]
