"""One outcome as JSON-ready fields (log lines, `elm process`, `elm simulate`); its log level."""

from __future__ import annotations

import logging
from typing import Any

from application.handle_change import ChangeResult
from domain.outcomes import Outcome

__all__ = ["event_fields", "log_level", "result_fields"]


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
