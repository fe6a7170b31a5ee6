"""One outcome as JSON-ready fields (log lines, `elm process`, `elm simulate`); its log level."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from application.handle_change import ChangeResult
from application.ports import PublishFailure
from domain.outcomes import Outcome

__all__ = [
    "PUBLISH_FAILED",
    "event_fields",
    "log_level",
    "publish_failure_fields",
    "report_publish_failures",
    "result_fields",
]

PUBLISH_FAILED = "publish-failed"
"""The metric (and log message) of an event of ELM's own that the bus did not take."""


def result_fields(result: ChangeResult) -> dict[str, Any]:
    """What happened to one event, as flat JSON-ready fields."""
    return {
        "outcome": result.outcome.value,
        "reason": result.reason,
        **event_fields(result),
        "matched_records": [
            {
                "partition_key": r.record_key.partition_key,
                "exception": r.record_key.key,
                "outcome": r.outcome.value,
                "members": list(r.members),
            }
            for r in result.records
        ],
        "dry_run": result.dry_run,
        "signal": result.signal,
    }


def event_fields(result: ChangeResult) -> dict[str, Any]:
    """Which event it was: its id, where it came from, and the rule and resource it names."""
    return {
        "event_id": result.event_id,
        "account": result.account_id,
        "region": result.region,
        "rule": result.rule_name,
        "resource_type": result.resource_type,
        "resource_id": result.resource_id,
    }


def log_level(outcome: Outcome) -> int:
    """ERROR for a failed record, WARNING for a rejected event, INFO otherwise."""
    if outcome.fails_record:
        return logging.ERROR
    if outcome is Outcome.REJECTED:
        return logging.WARNING
    return logging.INFO


def publish_failure_fields(failure: PublishFailure) -> dict[str, Any]:
    """One event the bus did not take: its kind, why, and its detail."""
    return {
        "outcome": PUBLISH_FAILED,
        "detail_type": failure.event.kind.value,
        "reason": failure.reason,
        "detail": dict(failure.event.detail),
    }


def report_publish_failures(
    logger: Logger, metrics: Metrics, failures: Sequence[PublishFailure]
) -> None:
    """One ERROR line per event the bus did not take, and the `publish-failed` count.

    The write it tells of is done and stays done: the record's History says what happened.
    """
    for failure in failures:
        logger.error(
            f"{PUBLISH_FAILED}: {failure.event.kind.value}: {failure.reason}",
            extra=publish_failure_fields(failure),
        )
    if failures:
        metrics.add_metric(name=PUBLISH_FAILED, unit=MetricUnit.Count, value=len(failures))
