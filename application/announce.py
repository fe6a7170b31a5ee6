"""What ELM tells others: its own events, built from what a write changed, then published.

After each write that changed a record (never for a dry run, never for a `duplicate`) ELM
puts one event on its bus: `Exception Closed` or `Exception Member Deleted`; after a sweep,
`Reconciliation Finished`. A distributed run announces each chunk's changes once its
worker wrote them, and its end once, from the worker that finished its last item. A
failure to publish never fails or undoes the write: it is returned, for the entrypoint to
log and count (`publish-failed`). The record's History stays the source of truth. The
detail's fields are documented in docs/events.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import frozen

from application.handle_change import ChangeResult
from application.ports import Clock, ElmEvent, ElmEventKind, EventPublisher, PublishFailure
from application.sweep_report import RecordNote, SweepOutcome, SweepReport
from application.sweep_run_ports import RunSummary
from domain.outcomes import Outcome
from domain.records import RecordKey

__all__ = [
    "DETAIL_VERSION",
    "Announcement",
    "PublishEvents",
    "change_events",
    "run_finished_event",
    "sweep_events",
]

DETAIL_VERSION = "1"
"""The version of the detail's shape; a consumer checks it before reading the rest."""

_KINDS = {
    Outcome.CLOSED: ElmEventKind.EXCEPTION_CLOSED,
    Outcome.MEMBER_DELETED: ElmEventKind.EXCEPTION_MEMBER_DELETED,
}
_SWEEP_KINDS = {
    SweepOutcome.CLOSED: ElmEventKind.EXCEPTION_CLOSED,
    SweepOutcome.MEMBER_DELETED: ElmEventKind.EXCEPTION_MEMBER_DELETED,
}


@frozen
class Announcement:
    """The events handed to the bus, and those it did not take."""

    events: tuple[ElmEvent, ...] = ()
    failures: tuple[PublishFailure, ...] = ()

    @property
    def published(self) -> tuple[ElmEvent, ...]:
        """The events the bus took."""
        failed = [f.event for f in self.failures]
        return tuple(e for e in self.events if e not in failed)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _record_detail(
    record_key: RecordKey,
    *,
    region: str | None,
    rule_name: str | None,
    resource_type: str | None,
    resource_id: str | None,
    members: Sequence[str],
    event_id: str | None,
    sweep_run: str | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "version": DETAIL_VERSION,
        "exceptionKey": {"AccountId_RuleId": record_key.partition_key, "Exception": record_key.key},
        "accountId": record_key.account_id,
        "region": region,
        "ruleId": record_key.rule_id,
        "ruleName": rule_name,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "members": list(members),
        "eventId": event_id,
        "sweepRun": sweep_run,
        "time": _iso(now),
    }


def change_events(result: ChangeResult, now: datetime) -> list[ElmEvent]:
    """One event per record the event path changed; none for a dry run or a duplicate."""
    if result.dry_run:
        return []
    events = []
    for record in result.records:
        kind = _KINDS.get(record.outcome)
        if kind is None:
            continue
        detail = _record_detail(
            record.record_key,
            region=result.region,
            rule_name=result.rule_name,
            resource_type=result.resource_type,
            resource_id=result.resource_id,
            members=record.members,
            event_id=result.event_id,
            sweep_run=None,
            now=now,
        )
        events.append(ElmEvent(kind, detail, now))
    return events


def _note_event(note: RecordNote, run_id: str, now: datetime) -> ElmEvent | None:
    kind = _SWEEP_KINDS.get(note.outcome)
    if kind is None:
        return None
    # A simple exception's key is its resource; a composite's change names its members.
    resource_id = note.members[0] if len(note.members) == 1 else None
    if not note.members:
        resource_id = note.record_key.key
    detail = _record_detail(
        note.record_key,
        region=note.region,
        rule_name=note.rule_name,
        resource_type=note.resource_type,
        resource_id=resource_id,
        members=note.members,
        event_id=None,
        sweep_run=run_id,
        now=now,
    )
    return ElmEvent(kind, detail, now)


def sweep_events(report: SweepReport, now: datetime) -> list[ElmEvent]:
    """One event per record the sweep changed, then `Reconciliation Finished`; none for a
    dry run."""
    if report.dry_run:
        return []
    events = [e for n in report.changes if (e := _note_event(n, report.run_id, now)) is not None]
    stopped = report.stopped
    finished: Mapping[str, Any] = {
        "version": DETAIL_VERSION,
        "sweepRun": report.run_id,
        "complete": report.complete,
        "recordsScanned": report.records_scanned,
        "groups": report.groups,
        "configCalls": report.config_calls,
        "outcomes": {o.value: report.count(o) for o in SweepOutcome if report.count(o)},
        "failedGroups": len(report.failures),
        "scanFailure": report.scan_failure,
        "stopped": None
        if stopped is None
        else {
            "reason": stopped.reason,
            "resumeFrom": stopped.resume_from.cursor if stopped.resume_from else None,
        },
        "time": _iso(now),
    }
    events.append(ElmEvent(ElmEventKind.RECONCILIATION_FINISHED, finished, now))
    return events


def run_finished_event(summary: RunSummary, now: datetime) -> ElmEvent:
    """`Reconciliation Finished` for a distributed run: complete, since every item was done.

    Its `groups` counts the run's chunks (a group larger than a chunk counts once a chunk);
    a failed attempt was retried until its item was done, so `failedGroups` is 0.
    """
    finished: Mapping[str, Any] = {
        "version": DETAIL_VERSION,
        "sweepRun": summary.run_id,
        "complete": True,
        "recordsScanned": summary.records_scanned,
        "groups": summary.chunks,
        "configCalls": summary.config_calls,
        "outcomes": {o.value: n for o in SweepOutcome if (n := summary.counts.get(o.value, 0))},
        "failedGroups": 0,
        "scanFailure": None,
        "stopped": None,
        "time": _iso(now),
    }
    return ElmEvent(ElmEventKind.RECONCILIATION_FINISHED, finished, now)


@frozen
class PublishEvents:
    """Publish ELM's events for what was written; ``publisher`` None: publishing is off."""

    publisher: EventPublisher | None
    clock: Clock

    def changes(self, results: Iterable[ChangeResult]) -> Announcement:
        """The events of a batch's results, published together."""
        now = self.clock.now()
        return self._publish([e for r in results for e in change_events(r, now)])

    def sweep(self, report: SweepReport) -> Announcement:
        """The events of a finished sweep, published together."""
        return self._publish(sweep_events(report, self.clock.now()))

    def notes(self, notes: Iterable[RecordNote], run_id: str, dry_run: bool) -> Announcement:
        """One event per record a distributed run's chunk changed; none for a dry run."""
        if dry_run:
            return Announcement()
        now = self.clock.now()
        return self._publish([e for n in notes if (e := _note_event(n, run_id, now)) is not None])

    def run_finished(self, summary: RunSummary) -> Announcement:
        """The end of a distributed run; none for a dry run."""
        if summary.dry_run:
            return Announcement()
        return self._publish([run_finished_event(summary, self.clock.now())])

    def _publish(self, events: list[ElmEvent]) -> Announcement:
        if self.publisher is None or not events:
            return Announcement()
        failures = tuple(self.publisher.publish(events))
        return Announcement(tuple(events), failures)
