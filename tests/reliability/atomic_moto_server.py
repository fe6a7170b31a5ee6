"""A moto server whose DynamoDB item operations are atomic, run as its own process.

Real DynamoDB applies each item operation atomically, condition included. moto does not:
two threads doing a conditional UpdateItem on one item can both pass the condition
(/work/shared/EMULATOR-NOTES.md measured 1,150 lost increments in 30 trials). A
concurrency test on bare moto would fail a correct implementation and could pass a wrong
one, so this server puts one lock around moto's item operations. That gives each of them
the atomicity real DynamoDB promises and nothing more: the race between a worker's read and
its later conditional write stays open, and that race is what the tests exercise.

It runs in a process of its own so that the workers (in the test's process) and the server
do not share one interpreter lock. moto 5's generic response serializer walks the service
model attribute value by attribute value: an item with a 40-entry `History` costs it about
50 ms to return. `make_fast` answers the item operations with the JSON moto already holds
in DynamoDB's wire format, which is what the serializer would produce, in a fraction of it.
Usage: ``python atomic_moto_server.py``; prints the port, serves until stdin closes.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionContext
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoResult
from moto.server import ThreadedMotoServer

__all__ = ["ITEM_OPERATIONS", "main", "make_atomic"]

ITEM_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "transact_write_items",
)


def make_atomic() -> None:
    """Serialise moto's DynamoDB item operations behind one lock.

    Reentrant: moto's `transact_write_items` calls its own `get_item`, `put_item` and
    `update_item`, which must not wait for the lock the transaction holds.
    """
    lock = threading.RLock()

    def atomic(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(*args, **kwargs)

        return locked

    for name in ITEM_OPERATIONS:
        setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))


_PLAIN_JSON_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"})


def make_fast() -> None:
    """Return item-operation results as plain JSON: they already are DynamoDB's wire format."""
    original = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: ActionContext) -> Any:
        if context.operation_model.name not in _PLAIN_JSON_OPERATIONS:
            return original(self, context)
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        return 200, headers, json.dumps(self.result)

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def main() -> None:
    """Serve on a free local port until stdin is closed."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    make_atomic()
    make_fast()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
