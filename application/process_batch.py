"""Process a batch of queued messages: the outcome of each and which ones failed."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

from application.batch_lookup import prepare_batch
from application.handle_change import ChangeResult, HandleComplianceChange
from application.ports import Message

__all__ = ["BatchReport", "ProcessBatch"]


@frozen
class BatchReport:
    """Each message's result, in order, and the ids of the messages that must be retried."""

    results: tuple[tuple[Message, ChangeResult], ...]

    @property
    def failed_message_ids(self) -> list[str]:
        return [m.message_id for m, r in self.results if r.outcome.fails_record]


@frozen
class ProcessBatch:
    """Run every message through `HandleComplianceChange`; one failure fails only its message.

    The batch's AWS Config lookups are made first, grouped (`prepare_batch`), as the Lambda
    handler does.
    """

    handle: HandleComplianceChange

    def execute(self, messages: Iterable[Message]) -> BatchReport:
        batch = list(messages)
        handle = prepare_batch(self.handle, [m.body for m in batch])
        return BatchReport(tuple((m, handle.execute(m.body)) for m in batch))
