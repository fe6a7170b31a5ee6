"""`elm local`'s reconciliation sweep: the deployed planner and workers on the stack's queue.

The planner handler (`entrypoints.sweep_run_handler.planner`) is invoked once, as the
schedule would: it opens a run in the stack's run ledger and queues the run's Scan segments
on the stack's FIFO sweep queue. The queue is then drained as the worker's event source
mapping would (moto cannot run the Lambda): batches of the mapping's `BatchSize`, handed to
`entrypoints.sweep_run_handler.worker` as SQS records with their FIFO attributes
(`MessageGroupId`, `MessageDeduplicationId`, `SequenceNumber`); what the worker reports
failed is made visible again at once (SQS would wait out the visibility timeout), and SQS
moves it to the sweep DLQ after the queue's `maxReceiveCount` receives. Segments queue
their chunks on the same queue; the drain ends when the queue is empty.

The report is read where an operator reads a run: its counts from the summary the last
worker wrote in the ledger, its changes from the records' `History` entries that name the
run, and what is left in the sweep DLQ.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws.sweep_messages import work_from_json
from adapters.aws.sweep_run import DynamoRunLedger
from application.ports import ExceptionStore, RuleCatalog
from application.sweep_report import (
    GroupFailure,
    GroupKey,
    RecordNote,
    SweepOutcome,
    SweepReport,
    SweepStop,
)
from domain.records import ExceptionRecord
from entrypoints import sweep_run_handler
from entrypoints.composition.sweep_run_wiring import RunParts
from entrypoints.local.lambda_context import LocalContext, lambda_context
from entrypoints.local.moto_aws import PRODUCTION_REGION, LocalAws, ProductionStack

__all__ = ["REQUEST_ID", "SweepDrainError", "run_sweep"]

REQUEST_ID = "elm-local"
"""The planner's Lambda request id: the run is ``sweep-elm-local``, the `EventId` of the
`History` entries it writes."""
MAX_INVOCATIONS = 100_000
"""A bound on worker invocations, so that a queue that never empties stops the demo."""


class SweepDrainError(Exception):
    """The sweep could not be run through the handlers; the message is one line saying why."""


class _Progress(Protocol):
    def stage(self, description: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


def run_sweep(
    aws: LocalAws,
    stack: ProductionStack,
    parts: RunParts,
    store: ExceptionStore,
    rules: RuleCatalog,
    progress: _Progress,
) -> SweepReport:
    """One run through the planner and the workers; its report. `SweepDrainError`."""
    outputs = stack.outputs
    sqs = aws.client("sqs")
    lambda_ = aws.client("lambda")
    worker_name = outputs["SweepWorkerFunctionName"]
    worker = lambda_.get_function_configuration(FunctionName=worker_name)
    (mapping,) = lambda_.list_event_source_mappings(FunctionName=worker_name)["EventSourceMappings"]
    ledger = DynamoRunLedger(aws.client("dynamodb"), outputs["SweepRunsTableName"])
    sweep_run_handler.use_parts_factory(lambda: parts)
    try:
        progress.stage("Sweep planner: a run's segments on the sweep queue", 1)
        with _captured() as _:
            started = sweep_run_handler.planner(
                {}, lambda_context(outputs["SweepPlannerFunctionName"], REQUEST_ID, 60)
            )
        progress.advance()
        run_id = str(started["run"])
        drain = _Drain(sqs, outputs["SweepQueueUrl"], outputs["SweepQueueArn"], ledger, run_id)
        context = lambda_context(worker_name, "", worker["Timeout"], worker["MemorySize"])
        drain.run(int(mapping["BatchSize"]), context, progress)
    finally:
        sweep_run_handler.use_parts_factory(None)
    dead = _dead_lettered(sqs, outputs["SweepDeadLetterQueueUrl"])
    return _report(run_id, bool(started["dryRun"]), ledger, drain, dead, store, rules)


class _Drain:
    """The worker's event source mapping: the sweep queue, in batches, into the handler."""

    def __init__(self, sqs: Any, url: str, arn: str, ledger: DynamoRunLedger, run_id: str) -> None:
        self._sqs = sqs
        self._url = url
        self._arn = arn
        self._ledger = ledger
        self._run_id = run_id
        self.groups: set[GroupKey] = set()
        self.reasons: dict[str, str] = {}
        """By work item id: why its last failed attempt failed (the worker's log line)."""

    def run(self, batch_size: int, context: LambdaContext, progress: _Progress) -> None:
        remaining = 0
        for invocation in range(1, MAX_INVOCATIONS + 1):
            messages = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=batch_size,
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                return
            if remaining <= 0:
                totals = self._ledger.totals(self._run_id)
                left = totals.planned - totals.finished if totals else 0
                remaining = max(left, len(messages))
                progress.stage(
                    f"Sweep workers: {remaining} work items on the sweep queue", remaining
                )
            records = [self._record(m) for m in messages]
            with _captured() as output:
                try:
                    response = sweep_run_handler.worker(
                        {"Records": records},
                        cast(LocalContext, context).invocation(f"elm-local-worker-{invocation}"),
                    )
                    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
                except Exception:  # noqa: BLE001 - a failed invocation, as Lambda sees it
                    # Lambda gives a failed invocation's whole batch back to the queue.
                    failed = {m["MessageId"] for m in messages}
            self._read_log(output.getvalue())
            for message in messages:
                if message["MessageId"] in failed:
                    # Back now rather than after the visibility timeout; SQS counts the
                    # receive and dead-letters it after maxReceiveCount.
                    self._sqs.change_message_visibility(
                        QueueUrl=self._url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    self._sqs.delete_message(
                        QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"]
                    )
            remaining -= len(messages) - len(failed)
            progress.advance(len(messages) - len(failed))
        raise SweepDrainError(
            f"the sweep queue did not empty after {MAX_INVOCATIONS} worker invocations"
        )

    def _record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        try:
            item = work_from_json(message["Body"])
        except ValueError:
            item = None  # the worker fails it alone, with the reason in its log
        if item is not None and item.group is not None:
            self.groups.add(item.group)
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            # FIFO: MessageGroupId, MessageDeduplicationId, SequenceNumber among them.
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": PRODUCTION_REGION,
        }

    def _read_log(self, text: str) -> None:
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if (
                    isinstance(entry, dict)
                    and entry.get("item")
                    and entry.get("level")
                    in (
                        "WARNING",
                        "ERROR",
                    )
                ):
                    self.reasons[str(entry["item"])] = str(entry.get("message", ""))


def _dead_lettered(sqs: Any, url: str) -> list[Mapping[str, Any]]:
    """The sweep DLQ's messages, read and left there (as an operator would find them)."""
    found: dict[str, Mapping[str, Any]] = {}
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
    ).get("Messages", []):
        fresh = [m for m in messages if m["MessageId"] not in found]
        if not fresh:
            break
        found.update((m["MessageId"], m) for m in fresh)
    return list(found.values())


def _report(
    run_id: str,
    dry_run: bool,
    ledger: DynamoRunLedger,
    drain: _Drain,
    dead: Sequence[Mapping[str, Any]],
    store: ExceptionStore,
    rules: RuleCatalog,
) -> SweepReport:
    summary = ledger.summary(run_id)
    totals = ledger.totals(run_id)
    if summary is not None:
        counts = {SweepOutcome(k): int(v) for k, v in summary["counts"].items()}
        scanned, calls = int(summary["recordsScanned"]), int(summary["configCalls"])
        stopped = None
    else:
        counts = {SweepOutcome(k): v for k, v in (totals.counts if totals else {}).items()}
        scanned = totals.records_scanned if totals else 0
        calls = totals.config_calls if totals else 0
        finished, planned = (totals.finished, totals.planned) if totals else (0, 0)
        stopped = SweepStop(
            f"the run did not finish: {finished} of {planned} work items done", None, scanned
        )
    failures: list[GroupFailure] = []
    segments: list[str] = []
    not_done = 0
    for message in dead:
        try:
            item = work_from_json(message["Body"])
        except ValueError as error:
            segments.append(f"a sweep DLQ message is not a work item: {error}")
            continue
        reason = drain.reasons.get(item.item_id, "failed every receive")
        if item.group is None:
            segments.append(f"{item.item_id} is in the sweep DLQ: {reason}")
        else:
            failures.append(GroupFailure(item.group, reason, len(item.keys)))
            not_done += len(item.keys)
    if not_done:
        # A dead-lettered chunk's records were not settled: counted failed, as a failed
        # group's are in every sweep.
        counts[SweepOutcome.FAILED] = counts.get(SweepOutcome.FAILED, 0) + not_done
    return SweepReport(
        run_id=run_id,
        dry_run=dry_run,
        records_scanned=scanned,
        groups=len(drain.groups),
        config_calls=calls,
        counts=counts,
        per_account={},
        changes=_changes(run_id, store, rules),
        unresolved=(),
        failures=tuple(failures),
        stopped=stopped,
        scan_failure="; ".join(segments) or None,
    )


def _changes(run_id: str, store: ExceptionStore, rules: RuleCatalog) -> tuple[RecordNote, ...]:
    """What the run wrote, read from the records: the `History` entries that name it.

    An entry without a member marks the close; one with a member marks that member."""
    names = {rule.rule_id: rule.name for rule in rules.list_rules()}
    notes = []
    records: list[ExceptionRecord] = sorted(
        store.scan_all(), key=lambda r: (r.record_key.partition_key, r.key)
    )
    for record in records:
        entries = [h for h in record.history if h.event_id == run_id]
        if not entries:
            continue
        closed = any(h.member is None for h in entries)
        outcome = SweepOutcome.CLOSED if closed else SweepOutcome.MEMBER_DELETED
        notes.append(
            RecordNote(
                record.record_key,
                record.region,
                outcome,
                f"AWS Config reports the deletion; exception was {outcome.value}",
                tuple(h.member for h in entries if h.member is not None),
                rule_name=names.get(record.rule_id),
                resource_type=record.resource_type,
            )
        )
    return tuple(notes)


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    """The handlers' log lines and metrics, captured instead of printed."""
    output = io.StringIO()
    stream_handler = sweep_run_handler.logger.registered_handler
    previous = stream_handler.setStream(output)  # type: ignore[attr-defined]
    try:
        # Powertools prints the metrics (embedded metric format) to standard output, and
        # warns of an invocation that emitted none (a worker whose item finished no run).
        with contextlib.redirect_stdout(output), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            yield output
    finally:
        stream_handler.setStream(previous)  # type: ignore[attr-defined]
