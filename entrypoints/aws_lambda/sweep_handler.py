"""The scheduled Lambda of the reconciliation sweep (docs/sweep.md): `Reconcile`, logged
and counted.

Thin on purpose: build the adapters once per Lambda container, run one sweep within the
time the invocation has left, log its summary as one JSON line, emit one metric per outcome,
and raise when a group failed, so that the function's Errors alarm fires.

The schedule may pass ``{"resumeFrom": "ACCOUNT/REGION/TYPE"}`` (where a budget-stopped run
said to resume) and ``{"dryRun": true}``; a plain scheduled event sweeps everything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from application.reconcile import GroupKey, Reconcile, SweepOutcome, SweepReport, SweepRequest
from entrypoints.aws_lambda.reporting import report_publish_failures
from entrypoints.aws_lambda.runtime import RuntimeContainer
from entrypoints.aws_lambda.sweep_summary import summary_fields

__all__ = [
    "MAX_LISTED",
    "SAFETY_MARGIN_SECONDS",
    "SweepFailed",
    "handler",
    "logger",
    "metrics",
    "use_container_factory",
]

logger = Logger(service="elm")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ELM", service="elm")

SAFETY_MARGIN_SECONDS = 30.0
"""Time kept back from the Lambda timeout to log, flush metrics and return."""
MAX_LISTED = 200
"""Records listed by key in the log line; a CloudWatch log event holds at most 256 KB."""


class SweepFailed(Exception):
    """At least one group failed: the invocation fails, so the Errors alarm fires."""


_runtime = RuntimeContainer(logger, sweep=True)
use_container_factory = _runtime.use_factory


def _use_case() -> Reconcile:
    return _runtime.get().get(Reconcile)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: object, context: LambdaContext) -> dict[str, Any]:
    """Run one sweep; return its summary, or raise `SweepFailed` when a group or the scan
    failed. Any event starts a sweep; only a mapping's `resumeFrom` and `dryRun` are read."""
    sweep = _use_case()
    request = SweepRequest(
        run_id=f"reconcile-{context.aws_request_id}",
        dry_run=_dry_run(event),
        budget_seconds=_budget(sweep, context),
        resume_from=_resume_from(event),
    )
    report = sweep.execute(request)
    summary = summary_fields(report)
    _log(report, summary)
    for outcome in SweepOutcome:
        metrics.add_metric(
            name=f"reconcile-{outcome.value}", unit=MetricUnit.Count, value=report.count(outcome)
        )
    metrics.add_metric(
        name="reconcile-config-calls", unit=MetricUnit.Count, value=report.config_calls
    )
    metrics.add_metric(
        name="reconcile-config-calls-by-name", unit=MetricUnit.Count, value=report.name_calls
    )
    metrics.add_metric(
        name="reconcile-stopped", unit=MetricUnit.Count, value=0 if report.complete else 1
    )
    report_publish_failures(logger, metrics, report.publish_failures)
    if report.scan_failure is not None:
        raise SweepFailed(f"the sweep did not read the whole table: {report.scan_failure}")
    if report.failures:
        first = report.failures[0]
        raise SweepFailed(
            f"{len(report.failures)} group(s) failed; first {first.group.cursor}: {first.reason}"
        )
    return summary


def _budget(sweep: Reconcile, context: LambdaContext) -> float:
    """The configured budget, cut to what the invocation has left (less a margin)."""
    left = context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_SECONDS
    return max(1.0, min(sweep.limits.budget_seconds, left))


def _resume_from(event: object) -> GroupKey | None:
    cursor = event.get("resumeFrom") if isinstance(event, Mapping) else None
    if cursor is None:
        return None
    if not isinstance(cursor, str):
        raise ValueError(f"resumeFrom must be a string ACCOUNT/REGION/TYPE (got {cursor!r})")
    return GroupKey.from_cursor(cursor)


def _dry_run(event: object) -> bool | None:
    flag = event.get("dryRun") if isinstance(event, Mapping) else None
    if flag is None or isinstance(flag, bool):
        return flag
    raise ValueError(f"dryRun must be true or false (got {flag!r})")


def _log(report: SweepReport, summary: dict[str, Any]) -> None:
    """One JSON line: ERROR when something failed, WARNING when the budget ran out."""
    summary = dict(summary)
    for name in ("changes", "unresolved", "expiring", "unreadable"):
        listed = summary[name]
        if len(listed) > MAX_LISTED:
            summary[name] = listed[:MAX_LISTED]
            summary[f"{name}_not_listed"] = len(listed) - MAX_LISTED
    if report.failed:
        log = logger.error
    elif not report.complete or report.expiring or report.unreadable:
        log = logger.warning
    else:
        log = logger.info
    outcomes = ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items()) or "nothing open"
    log(f"reconciliation sweep: {outcomes}", extra=summary)
