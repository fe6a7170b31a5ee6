"""Count AWS calls and DynamoDB items read, through botocore's own event hooks.

`install()` adds two handlers to botocore's built-in handlers, so every client made
afterwards (by ELM's adapters, by the reference, by the Lambda handler) reports to the
`CallCounter` that is active at the time. Nothing about the clients is changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore import handlers

__all__ = ["CallCounter", "counting", "install"]

_TABLE = "bench_table_name"


class CallCounter:
    """Calls by (service, operation), and DynamoDB items read by table."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.items_read: Counter[str] = Counter()

    def service_calls(self, service: str) -> int:
        """Calls made to one service (botocore's hyphenated service id: dynamodb, sts, ...)."""
        return sum(n for (s, _), n in self.calls.items() if s == service)

    def operations(self, service: str) -> dict[str, int]:
        """Calls made to one service, by operation."""
        return {op: n for (s, op), n in sorted(self.calls.items()) if s == service}

    @property
    def total_items_read(self) -> int:
        """Items read from every table."""
        return sum(self.items_read.values())

    def record(self, service: str, operation: str, table: str | None, parsed: Any) -> None:
        """Count one call and, for DynamoDB, the items it read."""
        self.calls[(service, operation)] += 1
        if service != "dynamodb" or not isinstance(parsed, dict):
            return
        if operation == "BatchGetItem":
            # The items of each table it names, by table (the call has no `TableName`).
            for name, items in parsed.get("Responses", {}).items():
                self.items_read[name] += len(items)
        else:
            self.items_read[table or "?"] += _items_read(operation, parsed)


def _items_read(operation: str, parsed: dict[str, Any]) -> int:
    """Items DynamoDB read to answer: ScannedCount for Scan/Query, the items returned else."""
    if operation in ("Scan", "Query"):
        return int(parsed.get("ScannedCount", 0))
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    return 0


_active: list[CallCounter] = []
_installed = False


def _remember_table(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    table = params.get("TableName")
    if isinstance(table, str):
        context[_TABLE] = table


def _after_call(event_name: str, parsed: Any, context: dict[str, Any], **_: Any) -> None:
    if not _active:
        return
    _event, service, operation = event_name.split(".", 2)
    for counter in _active:
        counter.record(service, operation, context.get(_TABLE), parsed)


def install() -> None:
    """Hook every botocore session created from now on (idempotent)."""
    global _installed
    if _installed:
        return
    handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _remember_table))
    handlers.BUILTIN_HANDLERS.append(("after-call", _after_call))
    _installed = True


@contextmanager
def counting() -> Iterator[CallCounter]:
    """A fresh counter that sees every AWS call made inside the block."""
    install()
    counter = CallCounter()
    _active.append(counter)
    try:
        yield counter
    finally:
        _active.remove(counter)
