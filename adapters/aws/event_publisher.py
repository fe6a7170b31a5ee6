"""ELM's own events on an EventBridge bus: `PutEvents`, ten entries a call, failures retried.

"Sending events with PutEvents" (Amazon EventBridge User Guide): a request takes a limited
number of entries (10, "PutEvents", EventBridge API Reference), the total entry size must
be under 256 KB, and an entry that fails does not fail the others: the response's
`Entries` are in the request's order, a failed one carries `ErrorCode` and `ErrorMessage`,
and `FailedEntryCount` counts them; it is for the caller to send those again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from application.ports import ELM_EVENT_SOURCE, ElmEvent, PublishFailure

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

__all__ = ["MAX_ENTRIES_PER_CALL", "MAX_REQUEST_BYTES", "EventBridgePublisher"]

MAX_ENTRIES_PER_CALL = 10
MAX_REQUEST_BYTES = 256 * 1024
_TIME_BYTES = 14  # what the `Time` parameter counts for ("Calculating PutEvents event entry size")


class EventBridgePublisher:
    """`EventPublisher` on one bus; each batch in calls of at most ten entries and 256 KB.

    Failed entries (and calls that fail whole, once botocore's own retries are spent) are sent
    again, at most ``max_attempts`` times in all, with a short doubling pause between rounds.
    ``client`` makes the client: called at the first publish, so a run that publishes
    nothing never builds one.
    """

    def __init__(
        self,
        client: Callable[[], EventBridgeClient],
        bus_name: str,
        *,
        max_attempts: int = 3,
        pause_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._bus = bus_name
        self._max_attempts = max_attempts
        self._pause = pause_seconds
        self._sleep = sleep

    def publish(self, events: Sequence[ElmEvent]) -> Sequence[PublishFailure]:
        failures: list[PublishFailure] = []
        entries = [(event, self._entry(event)) for event in events]
        sendable = []
        for event, entry in entries:
            if _size(entry) >= MAX_REQUEST_BYTES:
                failures.append(PublishFailure(event, "entry larger than PutEvents takes"))
            else:
                sendable.append((event, entry))
        for chunk in _chunks(sendable):
            failures.extend(self._put(chunk))
        return failures

    def _entry(self, event: ElmEvent) -> PutEventsRequestEntryTypeDef:
        return {
            "Source": ELM_EVENT_SOURCE,
            "DetailType": event.kind.value,
            "Detail": json.dumps(event.detail, sort_keys=True, separators=(",", ":")),
            "EventBusName": self._bus,
            "Time": event.time,
        }

    def _put(
        self, chunk: list[tuple[ElmEvent, PutEventsRequestEntryTypeDef]]
    ) -> list[PublishFailure]:
        pending = chunk
        reasons: dict[int, str] = {}
        for attempt in range(self._max_attempts):
            if attempt:
                self._sleep(self._pause * 2 ** (attempt - 1))
            try:
                response = self._client().put_events(Entries=[entry for _, entry in pending])
            except (ClientError, BotoCoreError) as error:
                for event, _ in pending:
                    reasons[id(event)] = f"PutEvents failed: {error}"
                continue
            answers: list[Any] = list(response.get("Entries", []))
            still = []
            for index, (event, entry) in enumerate(pending):
                answer = answers[index] if index < len(answers) else {}
                if answer.get("EventId") and not answer.get("ErrorCode"):
                    continue
                code = answer.get("ErrorCode") or "no result entry"
                message = answer.get("ErrorMessage") or ""
                reasons[id(event)] = f"{code}: {message}".rstrip(": ")
                still.append((event, entry))
            pending = still
            if not pending:
                return []
        return [
            PublishFailure(event, f"{reasons[id(event)]} (after {self._max_attempts} attempts)")
            for event, _ in pending
        ]


def _size(entry: PutEventsRequestEntryTypeDef) -> int:
    """The entry's size as EventBridge counts it."""
    return (
        _TIME_BYTES
        + len(entry["Source"].encode())
        + len(entry["DetailType"].encode())
        + len(entry["Detail"].encode())
    )


def _chunks(
    entries: list[tuple[ElmEvent, PutEventsRequestEntryTypeDef]],
) -> list[list[tuple[ElmEvent, PutEventsRequestEntryTypeDef]]]:
    """Consecutive runs of at most ten entries whose sizes add up to under 256 KB."""
    chunks: list[list[tuple[ElmEvent, PutEventsRequestEntryTypeDef]]] = []
    size = 0
    for item in entries:
        entry_size = _size(item[1])
        if (
            not chunks
            or len(chunks[-1]) == MAX_ENTRIES_PER_CALL
            or size + entry_size >= (MAX_REQUEST_BYTES)
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += entry_size
    return chunks
