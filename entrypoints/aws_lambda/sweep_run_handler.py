"""The distributed sweep's two Lambdas: the planner (on the schedule) and the worker (on SQS).

`planner` opens a run and queues its Scan segments; it returns the run id. `worker` takes a
batch of work items from the sweep queue (FIFO, one message group per account and region)
with partial batch failures: a failed item (a throttled Config call, a failed write, a bad
body) is reported back and SQS delivers it again, then parks it in the DLQ. The rest of a
failed item's group in the batch is reported back with it, so the group's items stay one at
a time; other groups' items go on. The worker that finishes a run's last item logs the run's
summary as one JSON line and emits its metrics (`sweep-run-finished`, one per outcome,
`sweep-run-seconds`). Each chunk's closes go to ELM's bus once written, and the last worker
publishes `Reconciliation Finished`; an event the bus did not take is logged and counted
(`publish-failed`), never a failed item.

The schedule may pass ``{"dryRun": true}``, ``{"accounts": [...]}`` and ``{"regions": [...]}``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from adapters.aws.sweep_messages import work_from_json
from adapters.aws.sweep_run import summary_to_dict
from application.sweep_report import SweepOutcome, SweepRequest
from application.sweep_run import WorkFailed
from application.sweep_run_ports import RunSummary
from entrypoints.aws_lambda.reporting import report_publish_failures
from entrypoints.aws_lambda.runtime import RuntimeContainer
from entrypoints.composition.sweep_run_wiring import RunParts, RunWiring, run_parts

__all__ = [
    "SAFETY_MARGIN_SECONDS",
    "logger",
    "metrics",
    "planner",
    "processor",
    "use_parts_factory",
    "worker",
]

SAFETY_MARGIN_SECONDS = 20.0
"""Time a worker keeps before its timeout: no Config call starts after it."""

logger = Logger(service="elm")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ELM", service="elm")
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A batch whose every item failed is reported item by item too, not raised: SQS gives each
# back as for any failure, and the invocation does not count as an error of the function.
processor.raise_on_entire_batch_failure = False

_runtime = RuntimeContainer(logger, sweep=True)


def _from_env() -> RunParts:
    return run_parts(_runtime.get(), RunWiring.from_env(os.environ))


_factory: Callable[[], RunParts] = _from_env
_parts: RunParts | None = None


def use_parts_factory(factory: Callable[[], RunParts] | None = None) -> None:
    """Build the parts with ``factory`` at the next invocation (None: from the environment)."""
    global _factory, _parts
    _factory = factory or _from_env
    _parts = None


def _get() -> RunParts:
    global _parts
    if _parts is None:
        _parts = _factory()
    return _parts


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def planner(event: object, context: LambdaContext) -> dict[str, Any]:
    """Start one run: its id and the work items queued."""
    parts = _get()
    request = _request(event, f"sweep-{context.aws_request_id}")
    dry_run = _dry_run(event, parts)
    run_id = parts.planner.execute(request, dry_run)
    segments = parts.planner.settings.segments
    logger.info(
        f"sweep run {run_id} started: {segments} segment(s) queued",
        extra={"run": run_id, "segments": segments, "dry_run": dry_run},
    )
    metrics.add_metric(name="sweep-run-started", unit=MetricUnit.Count, value=1)
    return {"run": run_id, "segments": segments, "dryRun": dry_run}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def worker(event: Mapping[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Run a batch of work items; return ``{"batchItemFailures": [...]}`` of the failed ones."""
    parts = _get()
    # A chunk's Config calls stop before the invocation's time does: the item then fails,
    # is given back, and the rest of its group in the batch with it.
    left = context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS
    deadline = parts.worker.sweep.timer.monotonic() + max(0.0, left)
    return process_partial_response(
        event=dict(event),
        record_handler=functools.partial(_work, parts, deadline),
        processor=processor,
        context=context,
    )


def _work(parts: RunParts, deadline: float, record: SQSRecord) -> None:
    try:
        item = work_from_json(record.body)
    except ValueError as error:
        logger.error(f"bad sweep message: {error}", extra={"message_id": record.message_id})
        metrics.add_metric(name="sweep-item-failed", unit=MetricUnit.Count, value=1)
        raise
    try:
        result = parts.worker.execute(item, deadline=deadline)
    except WorkFailed as error:
        report_publish_failures(logger, metrics, error.announced.failures)
        logger.warning(
            f"sweep work item failed, to be retried: {error}",
            extra={"run": item.run_id, "item": item.item_id, "message_id": record.message_id},
        )
        metrics.add_metric(name="sweep-item-failed", unit=MetricUnit.Count, value=1)
        raise
    report_publish_failures(logger, metrics, result.announced.failures)
    if result.summary is not None:
        _report(result.summary)


def _report(summary: RunSummary) -> None:
    fields = summary_to_dict(summary)
    outcomes = ", ".join(f"{k} {v}" for k, v in fields["counts"].items()) or "nothing open"
    log = logger.warning if summary.failures else logger.info
    log(f"sweep run {summary.run_id} finished: {outcomes}", extra=fields)
    metrics.add_metric(name="sweep-run-finished", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="sweep-run-seconds", unit=MetricUnit.Seconds, value=summary.duration_seconds
    )
    for outcome in SweepOutcome:
        metrics.add_metric(
            name=f"sweep-{outcome.value}",
            unit=MetricUnit.Count,
            value=summary.counts.get(outcome.value, 0),
        )


def _request(event: object, run_id: str) -> SweepRequest:
    body = event if isinstance(event, Mapping) else {}
    return SweepRequest(
        run_id=run_id,
        accounts=_names(body, "accounts"),
        regions=_names(body, "regions"),
    )


def _names(body: Mapping[str, Any], name: str) -> frozenset[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings (got {value!r})")
    return frozenset(value)


def _dry_run(event: object, parts: RunParts) -> bool:
    flag = event.get("dryRun") if isinstance(event, Mapping) else None
    if flag is None:
        return bool(parts.worker.sweep.policy.dry_run)
    if isinstance(flag, bool):
        return flag
    raise ValueError(f"dryRun must be true or false (got {flag!r})")
