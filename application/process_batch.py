"""Process a batch of queued messages: the outcome of each and which ones failed."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from application.announce import PublishEvents
from application.batch_lookup import prepare_batch
from application.handle_change import ChangeResult, HandleComplianceChange
from application.ports import ElmEvent, Message, PublishFailure

__all__ = ["BatchReport", "ProcessBatch"]


@frozen
class BatchReport:
    """Each message's result, in order, and the ids of the messages that must be retried."""

    results: tuple[tuple[Message, ChangeResult], ...]
    events: tuple[ElmEvent, ...] = ()
    """ELM's own events for what the batch wrote, handed to the bus together."""
    publish_failures: tuple[PublishFailure, ...] = ()
    """Of `events`, those the bus did not take; they fail no message."""

    @property
    def failed_message_ids(self) -> list[str]:
        return [m.message_id for m, r in self.results if r.outcome.fails_record]


@frozen
class ProcessBatch:
    """Run every message through `HandleComplianceChange`; one failure fails only its message.

    The batch's AWS Config lookups are made first, grouped (`prepare_batch`), as the Lambda
    handler does; the events of what the batch wrote are published together at its end.
    """

    handle: HandleComplianceChange
    publish: PublishEvents | None = None

    def execute(self, messages: Iterable[Message]) -> BatchReport:
        batch = list(messages)
        handle = prepare_batch(self.handle, [m.body for m in batch])
        results = tuple((m, handle.execute(m.body)) for m in batch)
        if self.publish is None:
            return BatchReport(results)
        announced = self.publish.changes(r for _, r in results)
        return BatchReport(results, announced.events, announced.failures)
