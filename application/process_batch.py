"""Process a batch of queued messages: the outcome of each and which ones failed."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import frozen

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
    """Run every message through `HandleComplianceChange`; one failure fails only its message."""

    handle: HandleComplianceChange

    def execute(self, messages: Iterable[Message]) -> BatchReport:
        return BatchReport(tuple((m, self.handle.execute(m.body)) for m in messages))
