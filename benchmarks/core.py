"""Figure 3: events per second through the use case on the in-memory wiring."""

from __future__ import annotations

import json
import statistics
import time

from benchmarks.data import KINDS, generate
from benchmarks.report import Met, Row, Section
from benchmarks.wiring import in_memory_use_case
from domain.rules import ExceptionKind

__all__ = ["TARGET_EVENTS_PER_SECOND", "core_throughput", "measure_core"]

TARGET_EVENTS_PER_SECOND = 20_000


def measure_core(size: int, events_per_kind: int, repeats: int) -> dict[ExceptionKind, float]:
    """Median events/s per kind over ``repeats`` runs, each on freshly loaded twins.

    Each run handles every event of one kind once (SQS bodies, JSON text, as the handler
    receives them): parse, filter, authenticate, rule, candidates, Config, close.
    """
    dataset = generate(size, events_per_kind)
    rates: dict[ExceptionKind, float] = {}
    for kind in KINDS:
        bodies = [json.dumps(e) for e in dataset.events[kind]]
        samples = []
        for _ in range(repeats):
            use_case = in_memory_use_case(dataset)
            execute = use_case.execute
            start = time.perf_counter()
            for body in bodies:
                execute(body)
            samples.append(len(bodies) / (time.perf_counter() - start))
        rates[kind] = statistics.median(samples)
    return rates


def core_throughput(size: int, events_per_kind: int, repeats: int) -> Section:
    """The figure: events/s per kind; the target applies to the simple-ID kind."""
    rates = measure_core(size, events_per_kind, repeats)
    rows = []
    for kind in KINDS:
        rate = rates[kind]
        simple = kind is ExceptionKind.SIMPLE_ID
        rows.append(
            Row(
                f"core events/s, {kind.value}",
                f"{rate:,.0f}",
                target=f">= {TARGET_EVENTS_PER_SECOND:,}" if simple else "—",
                met=Met.of(rate >= TARGET_EVENTS_PER_SECOND) if simple else Met.NONE,
            )
        )
    notes = []
    if rates[ExceptionKind.SIMPLE_ID] < TARGET_EVENTS_PER_SECOND:
        notes.append(
            "Missed: the per-event cost is pure Python in the core (JSON parse, the event "
            "validation and the deletion-pattern check, matching, the attrs transitions). "
            "What would fix it: profile `HandleComplianceChange.execute` and cut the "
            "repeated work (pattern check and validation walk the event twice)."
        )
    return Section(
        "Core throughput",
        f"`HandleComplianceChange` on the in-memory twins (adapters/in_memory), one process, "
        f"one thread; {size:,} records, {events_per_kind:,} deletion events of each kind "
        f"given as JSON text; each kind's events handled once per run on freshly loaded "
        f"twins; median of {repeats} runs; time.perf_counter around the loop only.",
        tuple(rows),
        tuple(notes),
    )
