"""A sweep's report as JSON-ready fields: `elm reconcile --json` and `elm simulate`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.reconcile import RecordNote, SweepOutcome, SweepReport

__all__ = ["summary_fields"]


def summary_fields(report: SweepReport) -> dict[str, Any]:
    """Everything the report says, with outcomes in a fixed order and zero counts left out."""
    stopped = report.stopped
    return {
        "run_id": report.run_id,
        "dry_run": report.dry_run,
        "complete": report.complete,
        "records_scanned": report.records_scanned,
        "groups": report.groups,
        "config_calls": report.config_calls,
        "config_calls_by_name": report.name_calls,
        "outcomes": _counts(report.counts),
        "accounts": {account: _counts(c) for account, c in report.per_account.items()},
        "changes": [_note(n) for n in report.changes],
        "unresolved": [_note(n) for n in report.unresolved],
        "expiring": [
            {
                "account": e.record_key.account_id,
                "rule_id": e.record_key.rule_id,
                "exception": e.record_key.key,
                "region": e.region,
                "ttl": e.ttl,
            }
            for e in report.expiring
        ],
        "unreadable": [{"item": u.item, "reason": u.reason} for u in report.unreadable],
        "failures": [
            {"group": f.group.cursor, "records": f.records, "reason": f.reason}
            for f in report.failures
        ],
        "scan_failure": report.scan_failure,
        "stopped": None
        if stopped is None
        else {
            "reason": stopped.reason,
            "resume_from": stopped.resume_from.cursor if stopped.resume_from else None,
            "records_scanned": stopped.records_scanned,
        },
    }


def _counts(counts: Mapping[SweepOutcome, int]) -> dict[str, int]:
    return {o.value: counts[o] for o in SweepOutcome if counts.get(o)}


def _note(note: RecordNote) -> dict[str, Any]:
    return {
        "account": note.record_key.account_id,
        "rule_id": note.record_key.rule_id,
        "exception": note.record_key.key,
        "region": note.region,
        "outcome": note.outcome.value,
        "reason": note.reason,
        "members": list(note.members),
    }
