"""The distributed sweep on the composition root: its settings, and its parts on AWS.

Its own settings, read beside the common ones (a bad value names its variable):

| variable | default | meaning |
|---|---|---|
| `ELM_SWEEP_QUEUE_URL` | unset | the sweep's work queue (required by the planner and workers) |
| `ELM_SWEEP_RUNS_TABLE` | `ELM-SweepRuns` | the run ledger table |
| `ELM_SWEEP_SEGMENTS` | `4` | Scan segments a run reads in parallel (1..1000) |
| `ELM_SWEEP_CHUNK_RECORDS` | `100` | records a work item holds (1..1000) |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from attrs import field, frozen
from injector import Injector

from adapters.aws import AwsClients
from adapters.aws.sweep_run import DynamoRunLedger, SqsWorkQueue
from application.ports import Clock, ExceptionStore, Timer
from application.reconcile import Reconcile
from application.sweep_in_process import SweepInProcess, WholeTable
from application.sweep_run import RunSettings, StartSweep, SweepWorker
from application.sweep_run_ports import RunLedger, SegmentScan, WorkQueue
from entrypoints.composition.settings import SettingsError, _number

__all__ = ["DEFAULT_RUNS_TABLE", "RunParts", "RunWiring", "in_process", "run_parts"]

DEFAULT_RUNS_TABLE = "ELM-SweepRuns"


@frozen
class RunWiring:
    """The distributed sweep's own settings."""

    queue_url: str | None = None
    runs_table: str = DEFAULT_RUNS_TABLE
    run: RunSettings = field(factory=RunSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RunWiring:
        defaults = RunSettings()
        runs_table = env.get("ELM_SWEEP_RUNS_TABLE", "").strip() or DEFAULT_RUNS_TABLE
        return cls(
            queue_url=env.get("ELM_SWEEP_QUEUE_URL", "").strip() or None,
            runs_table=runs_table,
            run=RunSettings(
                segments=int(
                    _number(env, "ELM_SWEEP_SEGMENTS", defaults.segments, 1, 1000, whole=True)
                ),
                chunk_records=int(
                    _number(
                        env, "ELM_SWEEP_CHUNK_RECORDS", defaults.chunk_records, 1, 1000, whole=True
                    )
                ),
                page_size=defaults.page_size,
            ),
        )


@frozen
class RunParts:
    """What the planner and the workers run: built once per Lambda container."""

    planner: StartSweep
    worker: SweepWorker
    ledger: RunLedger


def run_parts(
    container: Injector,
    wiring: RunWiring,
    *,
    queue: WorkQueue | None = None,
    ledger: RunLedger | None = None,
    table: SegmentScan | None = None,
) -> RunParts:
    """The planner and worker on the container's sweep, and the queue and ledger on AWS
    (unless given: the local pipeline and the tests pass twins)."""
    clients = container.get(AwsClients) if (queue is None or ledger is None) else None
    if queue is None:
        if wiring.queue_url is None:
            raise SettingsError("ELM_SWEEP_QUEUE_URL must be set for the distributed sweep")
        assert clients is not None
        queue = SqsWorkQueue(clients.sqs(), wiring.queue_url)
    if ledger is None:
        assert clients is not None
        ledger = DynamoRunLedger(clients.dynamodb(), wiring.runs_table)
    if table is None:
        table = _segment_scan(container)
    clock = container.get(Clock)  # type: ignore[type-abstract]
    sweep = container.get(Reconcile)
    return RunParts(
        StartSweep(ledger, queue, clock, wiring.run),
        SweepWorker(sweep, table, ledger, queue, clock, wiring.run),
        ledger,
    )


def _segment_scan(container: Injector) -> SegmentScan:
    store = container.get(ExceptionStore)  # type: ignore[type-abstract]
    if not hasattr(store, "scan_open_segment"):
        raise SettingsError("the exception store cannot be read by Scan segment")
    return cast("SegmentScan", store)


def in_process(container: Injector, wiring: RunWiring) -> SweepInProcess:
    """The distributed run's plan worked in this process (`elm reconcile`): the container's
    sweep on the whole table as one segment (one process reads it once, and no group is cut
    into more chunks than its size needs), the run counted in memory."""
    sweep = container.get(Reconcile)
    settings = RunSettings(
        segments=1, chunk_records=wiring.run.chunk_records, page_size=sweep.limits.page_size
    )
    return SweepInProcess(
        sweep,
        WholeTable(container.get(ExceptionStore)),  # type: ignore[type-abstract]
        container.get(Clock),  # type: ignore[type-abstract]
        container.get(Timer),  # type: ignore[type-abstract]
        settings,
    )
