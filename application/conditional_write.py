"""Write one lifecycle decision with the store's conditional write, re-deciding on a lost race.

The event path (`HandleComplianceChange`) and the reconciliation sweep (`Reconcile`) both
close records through this one function, so they write exactly alike (docs/behaviour.md).
"""

from __future__ import annotations

from collections.abc import Callable

from application.errors import ConflictError, TransientError
from application.ports import ExceptionStore
from domain.lifecycle import Duplicate, RecordUpdate
from domain.records import ExceptionRecord

__all__ = ["Decider", "write_decision"]

Decider = Callable[[ExceptionRecord], RecordUpdate | Duplicate]
"""The decision for a record as it is now (called again on the re-read record after a race)."""


def write_decision(
    store: ExceptionStore,
    record: ExceptionRecord,
    decider: Decider,
    *,
    max_attempts: int,
    dry_run: bool,
) -> RecordUpdate | Duplicate | None:
    """Decide for ``record`` and write the update conditionally; None when the record is gone.

    A lost race (`ConflictError`) re-reads the record and decides again, at most
    ``max_attempts`` times in all; then `TransientError`, so the caller retries later. A dry
    run returns the decision without writing it.
    """
    current: ExceptionRecord | None = record
    for _ in range(max_attempts):
        if current is None:
            return None
        decision = decider(current)
        if isinstance(decision, Duplicate) or dry_run:
            return decision
        try:
            store.apply(decision)
        except ConflictError:
            current = store.get(record.record_key)
            continue
        return decision
    raise TransientError(
        f"record {record.record_key.partition_key}/{record.key} kept changing under "
        f"{max_attempts} write attempts"
    )
