"""The sweep worker as the template feeds it: one work item a batch.

A batch whose only item fails is an entire-batch failure. Powertools raises
`BatchProcessingError` for that unless told not to; the worker reports it as a partial
failure instead, so that SQS gets the item back (as it would either way) and the workers'
Errors alarm (elm-<env>-sweep-worker-errors) is left to failed invocations: a crash, a
timeout, bad settings.
"""

from __future__ import annotations

from sample_estate import FakeLambdaContext
from test_sweep_run_handler import parts, queue, sqs_event, store

from adapters.in_memory.sweep_run import InMemoryWorkQueue
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.composition.sweep_run_wiring import RunParts

__all__ = ["parts", "queue", "store"]  # the fixtures this module shares


def test_a_batch_of_one_failed_item_is_reported_not_raised(
    parts: RunParts, queue: InMemoryWorkQueue
) -> None:
    context = FakeLambdaContext()
    sweep_run_handler.planner({}, context)  # type: ignore[arg-type]
    first = queue.receive()
    assert first is not None

    response = sweep_run_handler.worker(
        sqs_event([first], {first.receipt: '{"kind": "chunk"}'}),
        context,  # type: ignore[arg-type]
    )

    assert response["batchItemFailures"] == [{"itemIdentifier": f"m{first.receipt}"}]


def test_a_batch_of_one_good_item_reports_no_failure(
    parts: RunParts, queue: InMemoryWorkQueue
) -> None:
    context = FakeLambdaContext()
    sweep_run_handler.planner({}, context)  # type: ignore[arg-type]
    first = queue.receive()
    assert first is not None

    response = sweep_run_handler.worker(sqs_event([first]), context)  # type: ignore[arg-type]

    assert response["batchItemFailures"] == []
