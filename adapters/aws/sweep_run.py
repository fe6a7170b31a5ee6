"""The distributed sweep's AWS adapters: the work queue on SQS, the run ledger on DynamoDB.

The ledger is a small table of ELM's own (`RunId`, `ItemId`), never the exceptions table:
one counter item a run (`ItemId` = ``#run``) and one marker item a finished work item.

- `plan` is one `UpdateItem` (`ADD Planned`, the planner's count in the `Plans` map) under
  the condition that this planner has not planned yet; a retried planner reads back the
  count that stands.
- `finish` is one `TransactWriteItems`: the item's marker, put only if absent, and `ADD` of
  its counts to the run's counter. Both or neither: a redelivered item is never counted
  twice, and a worker that dies cannot leave an item marked but not counted. A
  transaction returns no values, so the totals are then read consistently: the worker that
  commits the last item reads them complete.
- `close` puts the summary under the condition that none is there: one worker reports it.

DynamoDB: "Condition expressions", "UpdateItem" (ADD on top-level number attributes),
"TransactWriteItems" (all-or-nothing, cancelled when a condition fails), Amazon DynamoDB
Developer Guide / API Reference.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.errors import error_code, translated
from adapters.aws.sweep_messages import work_to_json
from application.errors import TransientError
from application.sweep_report import SweepOutcome
from application.sweep_run_ports import RunDelta, RunSummary, RunTotals, SweepWork

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

__all__ = ["DynamoRunLedger", "SqsWorkQueue", "create_run_table"]

RUN_ITEM = "#run"
_NUMBERS = ("Planned", "Finished", "Failures", "ConfigCalls", "RecordsRead", "RecordsScanned")
_OUTCOMES = tuple(o.value for o in SweepOutcome)
RUN_RETENTION_DAYS = 30
_CONTENDED = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
"""Cancellation reasons of a finish that wrote nothing and may be tried again at once
("TransactWriteItems", Amazon DynamoDB API Reference: CancellationReasons)."""


def create_run_table(client: DynamoDBClient, table_name: str) -> None:
    """The ledger table (on-demand, TTL on `TTL`), as `elm-status-update.yaml` makes it."""
    client.create_table(
        TableName=table_name,
        KeySchema=[
            {"AttributeName": "RunId", "KeyType": "HASH"},
            {"AttributeName": "ItemId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "RunId", "AttributeType": "S"},
            {"AttributeName": "ItemId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "TTL"}
    )


def _count_name(outcome: str) -> str:
    return "Count_" + outcome.replace("-", "_")


class DynamoRunLedger:
    """`RunLedger` on a DynamoDB table of its own."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table_name
        self._attempts = attempts
        self._sleep = sleep

    def _key(self, run_id: str, item_id: str = RUN_ITEM) -> dict[str, Any]:
        return {"RunId": {"S": run_id}, "ItemId": {"S": item_id}}

    def open(self, run_id: str, started_at: datetime, dry_run: bool, planned: int) -> None:
        expires = int((started_at + timedelta(days=RUN_RETENTION_DAYS)).timestamp())
        item: dict[str, Any] = {
            **self._key(run_id),
            "StartedAt": {"S": started_at.isoformat()},
            "DryRun": {"BOOL": dry_run},
            "Plans": {"M": {}},
            "TTL": {"N": str(expires)},
        }
        item.update({name: {"N": "0"} for name in _NUMBERS})
        item["Planned"] = {"N": str(planned)}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(RunId)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":  # open already: kept
                raise TransientError(f"opening run {run_id}: {error_code(error)}") from error
        except BotoCoreError as error:
            raise TransientError(f"opening run {run_id}: {error}") from error

    def plan(self, run_id: str, item_id: str, children: int) -> int:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(run_id),
                UpdateExpression="SET Plans.#p = :n ADD Planned :n",
                ConditionExpression="attribute_exists(RunId) AND attribute_not_exists(Plans.#p)",
                ExpressionAttributeNames={"#p": item_id},
                ExpressionAttributeValues={":n": {"N": str(children)}},
            )
            return children
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise TransientError(f"planning {item_id}: {error_code(error)}") from error
        except BotoCoreError as error:
            raise TransientError(f"planning {item_id}: {error}") from error
        run = self._read(run_id)
        plans = run.get("Plans", {}).get("M", {})
        if item_id not in plans:
            raise TransientError(f"planning {item_id}: sweep run {run_id} is not open")
        return int(plans[item_id]["N"])

    def finish(self, run_id: str, item_id: str, delta: RunDelta) -> RunTotals | None:
        names = {"#f": "Finished", "#c": "ConfigCalls", "#r": "RecordsRead", "#s": "RecordsScanned"}
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":c": {"N": str(delta.config_calls)},
            ":r": {"N": str(delta.records_read)},
            ":s": {"N": str(delta.records_scanned)},
        }
        adds = ["#f :one", "#c :c", "#r :r", "#s :s"]
        for index, (outcome, count) in enumerate(sorted(delta.counts.items())):
            names[f"#o{index}"] = _count_name(outcome)
            values[f":o{index}"] = {"N": str(count)}
            adds.append(f"#o{index} :o{index}")
        transact: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {**self._key(run_id, item_id), "FinishedItem": {"BOOL": True}},
                    "ConditionExpression": "attribute_not_exists(ItemId)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(run_id),
                    "UpdateExpression": "ADD " + ", ".join(adds),
                    "ConditionExpression": "attribute_exists(RunId)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
        ]
        for attempt in range(1, self._attempts + 1):
            try:
                self._client.transact_write_items(TransactItems=transact)
            except ClientError as error:
                reasons = error.response.get("CancellationReasons", [])
                codes = [str(r.get("Code", "")) for r in reasons]
                if codes and codes[0] == "ConditionalCheckFailed":
                    return None  # finished before: a redelivered message
                if attempt < self._attempts and set(codes) & _CONTENDED:
                    # Workers finishing at once contend for the run's counter item: DynamoDB
                    # cancels all but one ("TransactionConflict"); nothing was written.
                    self._sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 (jitter)
                    continue
                raise TransientError(f"finishing {item_id}: {error_code(error)} {codes}") from error
            except BotoCoreError as error:
                raise TransientError(f"finishing {item_id}: {error}") from error
            break
        return self._totals(run_id, self._read(run_id))

    def fail(self, run_id: str, item_id: str, reason: str) -> None:
        with translated(f"counting a failure of {item_id}"):
            self._client.update_item(
                TableName=self._table,
                Key=self._key(run_id),
                UpdateExpression="ADD Failures :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    def close(self, summary: RunSummary) -> bool:
        body = json.dumps(summary_to_dict(summary), sort_keys=True)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(summary.run_id),
                UpdateExpression="SET Summary = :s, FinishedAt = :t",
                ConditionExpression="attribute_exists(RunId) AND attribute_not_exists(Summary)",
                ExpressionAttributeValues={
                    ":s": {"S": body},
                    ":t": {"S": summary.finished_at.isoformat()},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise TransientError(f"closing run {summary.run_id}: {error_code(error)}") from error
        except BotoCoreError as error:
            raise TransientError(f"closing run {summary.run_id}: {error}") from error
        return True

    def totals(self, run_id: str) -> RunTotals | None:
        with translated(f"reading sweep run {run_id}"):
            found = self._client.get_item(
                TableName=self._table, Key=self._key(run_id), ConsistentRead=True
            ).get("Item")
        return None if found is None else self._totals(run_id, found)

    def summary(self, run_id: str) -> dict[str, Any] | None:
        """The summary the last worker wrote, as JSON, or None while the run is open."""
        item = self._read(run_id)
        text = item.get("Summary", {}).get("S")
        return None if text is None else dict(json.loads(text))

    def _read(self, run_id: str) -> Mapping[str, Any]:
        with translated(f"reading sweep run {run_id}"):
            found = self._client.get_item(
                TableName=self._table, Key=self._key(run_id), ConsistentRead=True
            ).get("Item")
        if found is None:
            raise TransientError(f"sweep run {run_id} is not open")
        return found

    @staticmethod
    def _totals(run_id: str, item: Mapping[str, Any]) -> RunTotals:
        def number(name: str) -> int:
            return int(item.get(name, {}).get("N", "0"))

        counts = {o: number(_count_name(o)) for o in _OUTCOMES if number(_count_name(o))}
        return RunTotals(
            run_id=run_id,
            started_at=datetime.fromisoformat(item["StartedAt"]["S"]),
            dry_run=bool(item.get("DryRun", {}).get("BOOL", False)),
            planned=number("Planned"),
            finished=number("Finished"),
            failures=number("Failures"),
            config_calls=number("ConfigCalls"),
            records_read=number("RecordsRead"),
            counts=counts,
            records_scanned=number("RecordsScanned"),
        )


def summary_to_dict(summary: RunSummary) -> dict[str, Any]:
    """The summary as its log line and the ledger carry it."""
    return {
        "run": summary.run_id,
        "dryRun": summary.dry_run,
        "workItems": summary.work_items,
        "failures": summary.failures,
        "configCalls": summary.config_calls,
        "recordsRead": summary.records_read,
        "recordsScanned": summary.records_scanned,
        "segments": summary.segments,
        "chunks": summary.chunks,
        "counts": dict(sorted(summary.counts.items())),
        "unknownTypes": summary.unknown_types,
        "startedAt": summary.started_at.astimezone(UTC).isoformat(),
        "finishedAt": summary.finished_at.astimezone(UTC).isoformat(),
        "durationSeconds": summary.duration_seconds,
    }


class SqsWorkQueue:
    """`WorkQueue` on SQS: `SendMessageBatch`, ten messages and 256 KiB a call (SQS's most).

    On a FIFO queue (its name ends in ``.fifo``) each message carries its item's lane as
    `MessageGroupId`, so that one account and region is worked by one worker at a time
    and the per-account pace holds for the account, not only for one worker. Lambda
    scales a FIFO source to its active message groups, at most `MaximumConcurrency`, and
    retries a group's failed message before it hands out that group's next ones ("Configuring
    scaling behavior for SQS event source mappings", AWS Lambda Developer Guide). The
    `MessageDeduplicationId` is a digest of the run and item ids: a retried segment that
    sends its chunks again within SQS's five-minute deduplication interval adds nothing
    ("Exactly-once processing in Amazon SQS", Amazon SQS Developer Guide); after that, the
    ledger counts a chunk once and its records read closed.
    """

    def __init__(self, client: SQSClient, queue_url: str, *, attempts: int = 3) -> None:
        self._client = client
        self._url = queue_url
        self._attempts = attempts
        self._fifo = queue_url.rstrip("/").endswith(".fifo")

    def send(self, items: Sequence[SweepWork]) -> None:
        for batch in _batches([self._entry("", w) for w in items]):
            pending = {entry["Id"]: entry for entry in batch}
            for attempt in range(self._attempts):
                with translated("sending sweep work items"):
                    response = self._client.send_message_batch(
                        QueueUrl=self._url, Entries=list(pending.values())
                    )
                failed = response.get("Failed", [])
                pending = {f["Id"]: pending[f["Id"]] for f in failed}
                if not pending:
                    break
                if attempt + 1 < self._attempts:
                    time.sleep(0.2 * (attempt + 1))
            if pending:
                raise TransientError(
                    f"sending sweep work items: {len(pending)} not accepted by SQS"
                )

    def _entry(self, entry_id: str, item: SweepWork) -> SendMessageBatchRequestEntryTypeDef:
        entry: SendMessageBatchRequestEntryTypeDef = {
            "Id": entry_id,
            "MessageBody": work_to_json(item),
        }
        if self._fifo:
            lane = item.lane
            # SQS takes a group id of at most 128 characters.
            entry["MessageGroupId"] = lane if len(lane) <= 128 else _digest(lane)
            entry["MessageDeduplicationId"] = _digest(f"{item.run_id}\n{item.item_id}")
        return entry


MAX_BATCH_BYTES = 256 * 1024
"""SQS takes at most 256 KiB of message bodies a `SendMessageBatch` call, and ten messages."""


def _batches(
    entries: list[SendMessageBatchRequestEntryTypeDef],
) -> list[list[SendMessageBatchRequestEntryTypeDef]]:
    """The entries in calls of at most ten and at most `MAX_BATCH_BYTES` of bodies."""
    out: list[list[SendMessageBatchRequestEntryTypeDef]] = []
    size = 0
    for entry in entries:
        body = len(entry["MessageBody"].encode())
        if body > MAX_BATCH_BYTES:
            raise ValueError(f"sweep work item of {body} bytes is over SQS's 256 KiB")
        if not out or len(out[-1]) == 10 or size + body > MAX_BATCH_BYTES:
            out.append([])
            size = 0
        entry["Id"] = str(len(out[-1]))
        out[-1].append(entry)
        size += body
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
