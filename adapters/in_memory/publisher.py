"""An event publisher that keeps what it was given, for simulations and tests to read."""

from __future__ import annotations

from collections.abc import Sequence

from attrs import define, field

from application.ports import ElmEvent, ElmEventKind, PublishFailure

__all__ = ["InMemoryEventPublisher"]


@define
class InMemoryEventPublisher:
    """The bus as a list: `published` in order, `calls` as the batches it was handed.

    ``failure``: while set, every event is refused with that reason (a bus that is down).
    """

    published: list[ElmEvent] = field(factory=list)
    calls: list[tuple[ElmEvent, ...]] = field(factory=list)
    failure: str | None = None

    def publish(self, events: Sequence[ElmEvent]) -> Sequence[PublishFailure]:
        self.calls.append(tuple(events))
        if self.failure is not None:
            return [PublishFailure(e, self.failure) for e in events]
        self.published.extend(events)
        return []

    def of_kind(self, kind: ElmEventKind) -> list[ElmEvent]:
        """The published events of one kind, in order."""
        return [e for e in self.published if e.kind is kind]
