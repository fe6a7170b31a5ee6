"""Figure 5: events per second through the use case on the in-memory wiring.

Beside the timed rates, the CPU instructions an event costs, counted by valgrind's callgrind
where valgrind is installed: a count is the same whatever else the machine runs, so it shows
what a change to the code saved where the timed rate cannot (it moves by tens of percent
between runs of the same code on a shared machine). ``python -m benchmarks.core --probe
MODE SIZE EVENTS`` is the process callgrind runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from attrs import frozen

from benchmarks.data import KINDS, generate
from benchmarks.report import Met, Row, Section
from benchmarks.wiring import in_memory_use_case
from domain.rules import ExceptionKind

__all__ = [
    "PROBE_MODES",
    "TARGET_EVENTS_PER_SECOND",
    "CoreRate",
    "Instructions",
    "core_throughput",
    "instructions_per_event",
    "measure_core",
    "stage_shares",
]

TARGET_EVENTS_PER_SECOND = 20_000
PROBE_MODES = ("setup", "parse", "screen", "whole")
"""What a callgrind probe does with each simple-ID event once the twins are loaded: nothing
(the baseline the others are counted from); json.loads of its body; steps 1 to 3 (parse,
validate, the deletion pattern, authenticity); the whole use case."""
_ROOT = Path(__file__).resolve().parent.parent
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@frozen
class CoreRate:
    """Events per second of one kind: per CPU-second of the process, and per wall second."""

    cpu: float
    wall: float


def measure_core(size: int, events_per_kind: int, repeats: int) -> dict[ExceptionKind, CoreRate]:
    """Median events/s per kind over ``repeats`` runs, each on freshly loaded twins.

    Each run handles every event of one kind once (SQS bodies, JSON text, as the handler
    receives them): parse, filter, authenticate, rule, candidates, Config, close. The CPU
    figure counts only this process's CPU time, so other work on the machine does not
    count against it; the wall figure does.
    """
    dataset = generate(size, events_per_kind)
    rates: dict[ExceptionKind, CoreRate] = {}
    for kind in KINDS:
        bodies = [json.dumps(e) for e in dataset.events[kind]]
        cpu, wall = [], []
        for _ in range(repeats):
            use_case = in_memory_use_case(dataset)
            execute = use_case.execute
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            for body in bodies:
                execute(body)
            cpu.append(len(bodies) / (time.process_time() - started_cpu))
            wall.append(len(bodies) / (time.perf_counter() - started_wall))
        rates[kind] = CoreRate(statistics.median(cpu), statistics.median(wall))
    return rates


@frozen
class Instructions:
    """CPU instructions per simple-ID event, each stage counting those before it."""

    parse: float
    """json.loads of the SQS body."""
    screen: float
    """Steps 1 to 3: parsed, validated, matched to the deletion pattern, authenticated."""
    whole: float
    """The whole use case: also the rule, the reads, Config, the decision and the write."""


def _probe(mode: str, size: int, events: int) -> int:
    """Load the twins, then do ``mode`` for each simple-ID event; the number of events."""
    dataset = generate(size, events)
    bodies = [json.dumps(e) for e in dataset.events[ExceptionKind.SIMPLE_ID]]
    use_case = in_memory_use_case(dataset)
    steps: dict[str, Callable[[str], object] | None] = {
        "setup": None,
        "parse": json.loads,
        "screen": use_case._screen,  # steps 1 to 3 alone: no public door stops there
        "whole": use_case.execute,
    }
    step = steps[mode]
    if step is not None:
        for body in bodies:
            step(body)
    return len(bodies)


def _count(valgrind: str, mode: str, size: int, events: int) -> tuple[int, int] | str:
    """(instructions, events) of one probe process under callgrind, or why it failed."""
    # Our own module, under the valgrind found on the PATH.
    done = subprocess.run(
        [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks.core",
            "--probe",
            mode,
            str(size),
            str(events),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=_ROOT,
        # A fixed hash seed: sets and dicts of str then iterate alike in every probe.
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = _COLLECTED.search(done.stderr)
    handled = re.search(r"^EVENTS (\d+)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None or handled is None:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"the {mode} probe failed: {lines[-1] if lines else f'exit {done.returncode}'}"
    return int(found.group(1)), int(handled.group(1))


def instructions_per_event(size: int, events: int) -> Instructions | str:
    """Instructions per simple-ID event by stage (callgrind), or why they were not counted.

    Four probe processes, two at a time: each loads the same twins (``size`` records,
    ``events`` events), then does one `PROBE_MODES` stage for every event; a stage's count
    is its process's total less the setup-only process's, over the events.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return "valgrind is not installed"
    with ThreadPoolExecutor(max_workers=2) as pool:
        counted = list(pool.map(lambda mode: _count(valgrind, mode, size, events), PROBE_MODES))
    totals: dict[str, tuple[int, int]] = {}
    for mode, result in zip(PROBE_MODES, counted, strict=True):
        if isinstance(result, str):
            return result
        totals[mode] = result
    base = totals["setup"][0]

    def per_event(mode: str) -> float:
        total, handled = totals[mode]
        return (total - base) / handled

    return Instructions(per_event("parse"), per_event("screen"), per_event("whole"))


_STAGES = {
    "JSON parse": ("json/__init__.py", "loads"),
    "event validation": ("domain/events.py", "from_event"),
    "deletion-pattern check": ("domain/deletion.py", "is_deletion_event"),
    "rule lookup (twin)": ("adapters/in_memory/rules.py", "find_by_name"),
    "candidates (twin)": ("adapters/in_memory/store.py", "list_for"),
    "matching": ("application/handle_change.py", "_matching"),
    "Config lookup (twin)": ("application/handle_change.py", "_lookup"),
    "transition and write": ("application/handle_change.py", "_close"),
}


def stage_shares(size: int, events: int) -> dict[str, float]:
    """Share of the simple-ID run's time in each stage (cProfile, cumulative, one run)."""
    dataset = generate(size, events)
    bodies = [json.dumps(e) for e in dataset.events[ExceptionKind.SIMPLE_ID]]
    use_case = in_memory_use_case(dataset)
    profile = cProfile.Profile()
    profile.enable()
    for body in bodies:
        use_case.execute(body)
    profile.disable()
    stats = pstats.Stats(profile)
    timings: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = sum(t[2] for t in timings.values())
    shares = {}
    for stage, (path, function) in _STAGES.items():
        cumulative = sum(
            t[3] for (f, _, name), t in timings.items() if f.endswith(path) and name == function
        )
        shares[stage] = cumulative / total if total else 0.0
    return shares


def core_throughput(
    size: int, events_per_kind: int, repeats: int, instruction_events: int = 0
) -> Section:
    """The figure: events/s per kind; the target applies to the simple-ID kind.

    ``instruction_events`` > 0: also the instructions per simple-ID event, counted on that
    many events over 1,000 records (callgrind: about 50 times slower than the timed runs).
    """
    rates = measure_core(size, events_per_kind, repeats)
    rows = []
    for kind in KINDS:
        rate = rates[kind].cpu
        simple = kind is ExceptionKind.SIMPLE_ID
        rows.append(
            Row(
                f"core events/s, {kind.value}",
                f"{rate:,.0f} per CPU-second ({rates[kind].wall:,.0f} wall)",
                target=f">= {TARGET_EVENTS_PER_SECOND:,}" if simple else "—",
                met=Met.of(rate >= TARGET_EVENTS_PER_SECOND) if simple else Met.NONE,
            )
        )
    rate = rates[ExceptionKind.SIMPLE_ID].cpu
    counted = instructions_per_event(1_000, instruction_events) if instruction_events else None
    if isinstance(counted, Instructions):
        rows.extend(_instruction_rows(counted, rate))
    elif counted is not None:
        rows.append(
            Row(
                "CPU instructions per event, simple-resource-id",
                f"not measured: {counted}",
                met=Met.NOT_MEASURED,
            )
        )
    notes = []
    if rate < TARGET_EVENTS_PER_SECOND:
        notes.append(_missed(size, events_per_kind, rate, counted))
    return Section(
        "Core throughput",
        f"`HandleComplianceChange` on the in-memory twins (adapters/in_memory), one process, "
        f"one thread; {size:,} records, {events_per_kind:,} deletion events of each kind "
        f"given as JSON text; each kind's events handled once per run on freshly loaded "
        f"twins; median of {repeats} runs; the loop only is timed, by time.process_time "
        f"(this process's CPU time: the target's one core, whatever else the machine runs) "
        f"and by time.perf_counter (wall)."
        + (
            f" CPU instructions: valgrind's callgrind, {instruction_events:,} simple-ID "
            "events over 1,000 records, each stage in its own process less a process that "
            "only loads the twins (`python -m benchmarks.core --probe`); a count does not "
            "depend on the machine's load, so it is what shows a change's effect. The "
            "instructions an event may take = instructions per event x this run's CPU "
            "rate / the target."
            if instruction_events
            else ""
        ),
        tuple(rows),
        tuple(notes),
    )


def _instruction_rows(counted: Instructions, rate: float) -> list[Row]:
    budget = counted.whole * rate / TARGET_EVENTS_PER_SECOND
    return [
        Row(
            "CPU instructions per event, simple-resource-id (callgrind)",
            f"{counted.whole:,.0f}: json.loads {counted.parse:,.0f}, validation to "
            f"authenticity {counted.screen - counted.parse:,.0f}, rule to write "
            f"{counted.whole - counted.screen:,.0f}",
        ),
        Row(
            f"instructions an event may take at {TARGET_EVENTS_PER_SECOND:,}/s here",
            f"{budget:,.0f} (this run's pace: {counted.whole * rate / 1e9:.2f} billion "
            "a CPU-second)",
        ),
    ]


def _missed(size: int, events: int, rate: float, counted: Instructions | str | None) -> str:
    shares = stage_shares(size, min(events, 1_000))
    spread = ", ".join(f"{stage} {share:.0%}" for stage, share in shares.items())
    text = (
        f"Missed: {1e6 / rate:.0f} µs per event where the target allows "
        f"{1e6 / TARGET_EVENTS_PER_SECOND:.0f}. No one stage dominates: {spread} "
        "(cProfile, cumulative, one simple-ID run; the profiler inflates small calls)."
    )
    if not isinstance(counted, Instructions):
        return text
    budget = counted.whole * rate / TARGET_EVENTS_PER_SECOND
    rest = counted.whole - counted.screen
    room = budget - counted.screen
    return (
        f"{text} Why trimming cannot close it: at this machine's pace the target leaves "
        f"{budget:,.0f} instructions an event. CPython's json.loads of the event's body "
        f"alone takes {counted.parse:,.0f} ({counted.parse / budget:.0%} of that), and "
        f"reading the event as far as step 3 {counted.screen:,.0f} "
        f"({counted.screen / budget:.0%}), which leaves "
        + (
            f"{room:,.0f} for the rule, the reads, AWS Config, the decision and the write, "
            f"which take {rest:,.0f} today: they would have to be {rest / room:.1f} times "
            "cheaper"
            if room > 0
            else "nothing for the rule, the reads, AWS Config, the decision and the write"
        )
        + f". Meeting it here takes a core or an interpreter {counted.whole / budget:.1f} "
        "times faster, not a trim of ELM's steps."
    )


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.core",
        description="A callgrind probe: load the twins, then run one stage for every event.",
    )
    parser.add_argument("--probe", choices=PROBE_MODES, required=True)
    parser.add_argument("size", type=int, help="records in the twins")
    parser.add_argument("events", type=int, help="simple-ID deletion events")
    args = parser.parse_args(argv)
    print(f"EVENTS {_probe(args.probe, args.size, args.events)}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
