"""The sweep's run ledger under concurrent workers, on a moto server with atomic item operations.

Eight workers finish a run's items at once, every item delivered twice (SQS delivers at
least once): each item is counted once, the counters end exact, and exactly one worker
sees the run done and writes its summary. Real DynamoDB makes each `TransactWriteItems`
and `UpdateItem` atomic ("TransactWriteItems", "UpdateItem", Amazon DynamoDB API
Reference); in-process moto does not, hence the atomic server (atomic_moto_server.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import requests

from adapters.aws.sweep_run import DynamoRunLedger, create_run_table
from application.sweep_run_ports import RunDelta, RunSummary

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUNS_TABLE = "Reliability-SweepRuns"
STARTED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
ITEMS = 40


def test_concurrent_workers_count_each_item_once_and_one_of_them_closes_the_run(
    moto_endpoint: str, dynamodb_clients: list[DynamoDBClient]
) -> None:
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    create_run_table(dynamodb_clients[0], RUNS_TABLE)
    DynamoRunLedger(dynamodb_clients[0], RUNS_TABLE).open("run-1", STARTED, False, ITEMS)
    deliveries = [f"item-{n}" for n in range(ITEMS)] * 2
    workers = dynamodb_clients[1:9]

    def work(index: int) -> tuple[int, int]:
        ledger = DynamoRunLedger(workers[index], RUNS_TABLE)
        counted = closed = 0
        for item_id in deliveries[index::8]:
            totals = ledger.finish("run-1", item_id, RunDelta({"closed": 3}, 2, 3))
            if totals is None:
                continue
            counted += 1
            if totals.done:
                summary = RunSummary(
                    "run-1", False, totals.finished, 0, 0, 0, dict(totals.counts), STARTED, STARTED
                )
                closed += ledger.close(summary)
        return counted, closed

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))

    assert sum(c for c, _ in results) == ITEMS
    assert sum(k for _, k in results) == 1
    totals = DynamoRunLedger(dynamodb_clients[0], RUNS_TABLE).totals("run-1")
    assert totals is not None
    assert (totals.planned, totals.finished) == (ITEMS, ITEMS)
    assert totals.counts == {"closed": 3 * ITEMS}
    assert totals.config_calls == 2 * ITEMS
