"""An event source over a list of messages (scenarios, files, tests)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import define, field

from application.ports import Message

__all__ = ["ListEventSource"]


@define
class ListEventSource:
    """Hands out its messages once; keeps the unacknowledged ones for another round."""

    pending: list[Message] = field(factory=list)
    acknowledged: list[str] = field(factory=list)

    def receive(self) -> Iterable[Message]:
        return list(self.pending)

    def acknowledge(self, message_ids: Sequence[str]) -> None:
        done = set(message_ids)
        self.acknowledged.extend(m.message_id for m in self.pending if m.message_id in done)
        self.pending = [m for m in self.pending if m.message_id not in done]
