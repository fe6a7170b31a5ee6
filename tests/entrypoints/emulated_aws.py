"""AWS emulated for the entrypoints' end-to-end tests: DynamoDB and STS on moto, seeded for
the sample events, and AWS Config answered on the wire.

moto's Config ignores `includeDeletedResources` (a deleted resource just disappears), so a
`before-call` hook answers ListDiscoveredResources with the real service's response shape,
after the real client, made with the assumed role's credentials, has built the request.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
from attrs import frozen
from botocore.awsrequest import AWSResponse
from sample_estate import BUCKET_KEY, REGION, SG_KEY, FakeLambdaContext

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog, create_tables
from adapters.aws.sweep_run import create_run_table
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler

__all__ = [
    "DELETED_IDS",
    "EXCEPTIONS_TABLE",
    "RULES_TABLE",
    "SWEEP_RUNS_TABLE",
    "EmulatedAws",
    "WireSpy",
    "deploy_sweep",
    "lambda_turn",
    "seed_tables",
    "stored_item",
]

EXCEPTIONS_TABLE = "E2E-ResourceExceptions"
RULES_TABLE = "E2E-Master"
DELETED_IDS = {SG_KEY.key, "elm-audit-logs-eu"}
SWEEP_RUNS_TABLE = "E2E-SweepRuns"


_DELETED_AT = datetime(2026, 3, 4, 10, 15, 2, tzinfo=UTC)


class WireSpy:
    """Counts STS calls by role ARN and answers Config as the real service would.

    `DELETED_IDS` are reported deleted and ``live`` ones live, their names being their IDs
    (as for buckets); ``named`` adds resources whose ID is not their name (IAM roles), by
    name: (ID, deleted).
    """

    def __init__(self, session: boto3.session.Session) -> None:
        self.assumed: Counter[str] = Counter()
        self.config_requests: list[dict[str, Any]] = []
        self.live: set[str] = set()
        self.named: dict[str, list[tuple[str, bool]]] = {}
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
        if "resourceName" in request:  # the service takes a name or IDs, never both
            name = request["resourceName"]
            found = [(name, name in DELETED_IDS)] if name in DELETED_IDS | self.live else []
            found += self.named.get(name, [])
            items = [_item(request["resourceType"], i, name, d) for i, d in found]
        else:
            items = [
                _item(request["resourceType"], i, i, i in DELETED_IDS)
                for i in request["resourceIds"]
                if i in DELETED_IDS | self.live
            ]
        return AWSResponse("", 200, {}, None), {"resourceIdentifiers": items}


def _item(resource_type: str, resource_id: str, name: str, deleted: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name,
    }
    if deleted:
        item["resourceDeletionTime"] = _DELETED_AT
    return item


def seed_tables(session: boto3.session.Session) -> None:
    """Both tables, with the rules and the open exceptions the sample events are about."""
    client = AwsClients(session).dynamodb()
    create_tables(client, EXCEPTIONS_TABLE, RULES_TABLE)
    rules = DynamoRuleCatalog(client, RULES_TABLE)
    rules.add(Rule(1, "prod-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
    rules.add(Rule(2, "prod-s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE))
    store = DynamoExceptionStore(client, EXCEPTIONS_TABLE)
    store.add(ExceptionRecord(SG_KEY, REGION))
    store.add(ExceptionRecord(BUCKET_KEY, REGION, status="EXPIRED"))


def stored_item(key: RecordKey) -> dict[str, Any]:
    """The raw exception item, read consistently."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    found: dict[str, Any] = client.get_item(
        TableName=EXCEPTIONS_TABLE,
        Key={"AccountId_RuleId": {"S": key.partition_key}, "Exception": {"S": key.key}},
        ConsistentRead=True,
    )["Item"]
    return found


@frozen
class EmulatedAws:
    """The session the adapters use, and what went over its wire."""

    session: boto3.session.Session
    spy: WireSpy


def deploy_sweep(session: boto3.session.Session) -> dict[str, str]:
    """The distributed sweep's deployed parts: a FIFO sweep queue and the run ledger; the
    settings that name them, for the handlers' environment."""
    url = session.client("sqs").create_queue(
        QueueName="elm-test-sweep.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    create_run_table(AwsClients(session).dynamodb(), SWEEP_RUNS_TABLE)
    return {
        "ELM_SWEEP_QUEUE_URL": url,
        "ELM_SWEEP_RUNS_TABLE": SWEEP_RUNS_TABLE,
        "ELM_SWEEP_CALLS_PER_SECOND": "100",  # a test need not wait on pacing
    }


def lambda_turn(session: boto3.session.Session, url: str) -> int:
    """What the event source mapping does: batches of 10 to the worker, successes deleted;
    the number of messages handed to the worker.

    moto's SQS does not run Lambda's event source mapping: the tests play it, receiving from
    the queue and invoking the worker's handler as Lambda would.
    """
    sqs = session.client("sqs")
    handled = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return handled
        event = {"Records": [_record(m, url) for m in messages]}
        response = sweep_run_handler.worker(event, FakeLambdaContext())  # type: ignore[arg-type]
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(messages)


def _record(message: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{url.rsplit('/', 1)[-1]}",
        "awsRegion": "us-east-1",
    }
