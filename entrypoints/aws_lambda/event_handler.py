"""The Lambda handler: an SQS batch of Compliance Change events in, the failed records out.

Thin on purpose: translate each SQS record into a call of `HandleComplianceChange`, and its
outcome into one log line, one metric and, for `invalid` and `failed`, a failed record (so
SQS retries it and in the end moves it to the DLQ). The adapters are built once per Lambda
container, at the first invocation, and reused by every later one.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from application.announce import PublishEvents
from application.batch_lookup import prepare_batch
from application.handle_change import ChangeResult, HandleComplianceChange
from domain.outcomes import Outcome
from entrypoints.aws_lambda.reporting import log_level, report_publish_failures, result_fields
from entrypoints.aws_lambda.runtime import RuntimeContainer
from entrypoints.aws_lambda.sqs_events import messages_from_sqs_event
from entrypoints.composition.settings import Settings

__all__ = [
    "RecordFailed",
    "handler",
    "logger",
    "metrics",
    "processor",
    "use_container_factory",
]

logger = Logger(service="elm")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ELM", service="elm")
# Returning every failed record, even when all of them failed, keeps the contract one
# shape: {"batchItemFailures": [...]}; SQS retries exactly those records either way.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RecordFailed(Exception):
    """Raised for an `invalid` or `failed` record, so that only that record fails."""


_runtime = RuntimeContainer(logger)
use_container_factory = _runtime.use_factory


def _use_case() -> HandleComplianceChange:
    return _runtime.get().get(HandleComplianceChange)


def _deadline_margin_ms() -> int:
    return _runtime.get().get(Settings).deadline_margin_seconds * 1000


def _record_handler(
    handle: HandleComplianceChange,
    results: list[ChangeResult],
    record: SQSRecord,
    lambda_context: LambdaContext | None = None,
) -> None:
    if lambda_context is not None:
        left_ms = lambda_context.get_remaining_time_in_millis()
        margin_ms = _deadline_margin_ms()
        if left_ms < margin_ms:
            # Lambda would kill the invocation mid-record, unreported: fail it untouched
            # instead, so SQS delivers it again.
            result = ChangeResult(
                Outcome.FAILED,
                f"not started: {left_ms} ms left before the Lambda timeout, under the "
                f"{margin_ms} ms margin (ELM_DEADLINE_MARGIN_SECONDS)",
            )
            _report(result, record.message_id)
            raise RecordFailed(f"{result.outcome.value}: {result.reason}")
    try:
        result = handle.execute(record.body)
    except Exception as error:
        # Not an outcome the use case knows: still one log line and one metric, then the
        # record fails (BatchProcessor reports it) and SQS retries it.
        result = ChangeResult(Outcome.FAILED, f"unexpected error: {type(error).__name__}")
        _report(result, record.message_id, exc_info=True)
        raise
    results.append(result)
    _report(result, record.message_id)
    if result.outcome.fails_record:
        raise RecordFailed(f"{result.outcome.value}: {result.reason}")


def _report(result: ChangeResult, message_id: str, *, exc_info: bool = False) -> None:
    logger.set_correlation_id(result.event_id)
    log = {logging.ERROR: logger.error, logging.WARNING: logger.warning}.get(
        log_level(result.outcome), logger.info
    )
    log(
        f"{result.outcome.value}: {result.reason}",
        extra={**result_fields(result), "message_id": message_id},
        exc_info=exc_info,
    )
    metrics.add_metric(name=result.outcome.value, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Mapping[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Process an SQS batch; return ``{"batchItemFailures": [...]}`` of the failed records.

    An event that is not an SQS batch raises `NotAnSqsBatch`: the invocation fails loudly.
    """
    messages = messages_from_sqs_event(event)
    # Built here, not in the record handler, so that a bad setting fails the invocation
    # instead of being counted as one failed record after another.
    handle = _use_case()
    # The batch's Config lookups grouped by account, region and type; the prepared use case
    # lives for this invocation only, so nothing it read is kept stale.
    batch = prepare_batch(handle, [m.body for m in messages])
    results: list[ChangeResult] = []
    response = process_partial_response(
        event=dict(event),
        record_handler=functools.partial(_record_handler, batch, results),
        processor=processor,
        context=context,
    )
    # After every write of the batch: its events go to the bus together. A failure to
    # publish is logged and counted; it fails no record, since each write is done.
    announced = _runtime.get().get(PublishEvents).changes(results)
    report_publish_failures(logger, metrics, announced.failures)
    return response
