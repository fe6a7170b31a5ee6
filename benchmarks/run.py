"""`make bench`: every figure, ELM beside the scan-based reference, as a markdown table.

The full run also writes the table into docs/performance.md and draws its plots there
(benchmarks/plots.py).

python -m benchmarks.run            # the published figures (about 20 minutes, 2 cores)
python -m benchmarks.run --quick    # small sizes, under a minute: keeps the code working
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from attrs import field, frozen

from benchmarks.coldstart import cold_start
from benchmarks.core import core_throughput
from benchmarks.correctness import correctness
from benchmarks.endtoend import api_calls_per_event, end_to_end
from benchmarks.item_signal import item_signal
from benchmarks.plots import PLOTS, Point, Series, sweep_plot, write_plot
from benchmarks.reads import KindReads, ReadCounts, reads_per_event, reads_per_partition
from benchmarks.report import Section, render
from benchmarks.sweep import sweep_figures
from benchmarks.sweep_moto import sweep_on_moto

__all__ = [
    "FULL",
    "PAGE_END",
    "PAGE_START",
    "QUICK",
    "Measured",
    "Sizes",
    "draw_plots",
    "main",
    "run",
    "update_page",
]

RESULTS = Path(__file__).with_name("results.md")
PAGE = Path(__file__).parent.parent / "docs" / "performance.md"
PAGE_START = "<!-- benchmarks:start (written by `make bench`) -->"
PAGE_END = "<!-- benchmarks:end -->"
MOTO_SWEEP_WANTED = 100_000
"""The size the sweep's end-to-end figure asks for; the run says why it ran fewer."""


@frozen
class Sizes:
    """How big each figure's run is."""

    read_sizes: tuple[int, ...]
    read_events: int
    reference_read_events: dict[int, int]
    partition_sizes: tuple[int, ...]
    partition_events: int
    partition_reference_events: int
    correctness_size: int
    correctness_events: int
    batch_records: int
    batch_events: int
    core_size: int
    core_events: int
    core_repeats: int
    e2e_size: int
    e2e_events: int
    e2e_reference_events: int
    import_runs: int
    item_rules: int = 9
    item_covering: tuple[int, ...] = (1, 3)
    item_records: int = 50
    item_events: int = 3
    sweep_records: int = 20_000
    sweep_accounts: int = 200
    moto_sweep_records: int = 0
    """Records of the sweep's end-to-end run on moto; 0: not run (quick mode)."""
    moto_sweep_accounts: int = 20
    core_instruction_events: int = 0
    """Events whose CPU instructions callgrind counts (figure 5); 0: not counted (quick)."""


FULL = Sizes(
    read_sizes=(1_000, 10_000, 100_000),
    read_events=200,
    reference_read_events={1_000: 20, 10_000: 5, 100_000: 2},
    partition_sizes=(1, 100, 10_000),
    partition_events=20,
    partition_reference_events=2,
    correctness_size=10_000,
    correctness_events=50,
    batch_records=10_000,
    batch_events=10,
    core_size=10_000,
    core_events=2_000,
    core_repeats=7,
    e2e_size=10_000,
    e2e_events=100,
    e2e_reference_events=30,
    import_runs=7,
    item_rules=30,
    item_covering=(1, 3, 10),
    item_records=200,
    item_events=20,
    sweep_records=1_000_000,
    sweep_accounts=2_000,
    moto_sweep_records=100_000,
    core_instruction_events=300,
)
QUICK = Sizes(
    read_sizes=(300, 3_000),
    read_events=20,
    reference_read_events={300: 3, 3_000: 2},
    partition_sizes=(1, 30, 300),
    partition_events=5,
    partition_reference_events=1,
    correctness_size=500,
    correctness_events=10,
    batch_records=2_000,
    batch_events=5,
    core_size=1_000,
    core_events=200,
    core_repeats=3,
    e2e_size=1_000,
    e2e_events=10,
    e2e_reference_events=6,
    import_runs=3,
)


@frozen
class Measured:
    """What the plots are drawn from, kept beside the sections."""

    table: list[ReadCounts] = field(factory=list)
    partition: list[tuple[int, KindReads]] = field(factory=list)
    sweep: list[Series] = field(factory=list)
    """Sweep time vs workers, one `Series` per table size: filled by the sweep's figure."""


def run(
    sizes: Sizes,
    progress: Callable[[str], None] = lambda _: None,
    measured: Measured | None = None,
) -> list[Section]:
    """Every figure, in the issue's order; ``measured`` receives what the plots need."""
    into = measured if measured is not None else Measured()

    def by_table() -> Section:
        section, counts = reads_per_event(
            sizes.read_sizes, sizes.read_events, sizes.reference_read_events
        )
        into.table.extend(counts)
        return section

    def by_partition() -> Section:
        section, counts = reads_per_partition(
            sizes.partition_sizes, sizes.partition_events, sizes.partition_reference_events
        )
        into.partition.extend(counts)
        return section

    def sweep() -> Section:
        full = FULL.sweep_records
        section, series = sweep_figures(
            sizes.sweep_records,
            sizes.sweep_accounts,
            scaled_from=full if sizes.sweep_records < full else None,
        )
        into.sweep.extend(series)
        return section

    steps: Sequence[tuple[str, Callable[[], Section]]] = (
        ("reads per event", by_table),
        ("reads per event by partition", by_partition),
        ("correctness", lambda: correctness(sizes.correctness_size, sizes.correctness_events)),
        (
            "API calls per event",
            lambda: api_calls_per_event(sizes.batch_records, sizes.batch_events),
        ),
        (
            "core throughput",
            lambda: core_throughput(
                sizes.core_size,
                sizes.core_events,
                sizes.core_repeats,
                sizes.core_instruction_events,
            ),
        ),
        (
            "end to end on moto",
            lambda: end_to_end(sizes.e2e_size, sizes.e2e_events, sizes.e2e_reference_events),
        ),
        ("cold start", lambda: cold_start(sizes.import_runs)),
        (
            "configuration item deletions",
            lambda: item_signal(
                sizes.item_rules, sizes.item_covering, sizes.item_records, sizes.item_events
            ),
        ),
        ("sweep at organisation scale", sweep),
        *(
            [
                (
                    "sweep end to end on moto",
                    lambda: sweep_on_moto(
                        sizes.moto_sweep_records,
                        sizes.moto_sweep_accounts,
                        wanted=MOTO_SWEEP_WANTED,
                    ),
                )
            ]
            if sizes.moto_sweep_records
            else []
        ),
    )
    sections = []
    for name, step in steps:
        start = time.perf_counter()
        sections.append(step())
        progress(f"{name}: {time.perf_counter() - start:.1f} s")
    return sections


def draw_plots(measured: Measured, folder: Path = PLOTS) -> list[Path]:
    """The SVG plots of ``measured``: reads vs table size, vs partition size, sweep time."""
    kinds = list(dict.fromkeys(c.kind for c in measured.table))
    table = [
        Series(
            f"{design}, {kind.value}",
            tuple(
                Point(c.size, c.elm if design == "ELM" else c.reference)
                for c in measured.table
                if c.kind is kind
            ),
            dashed=design != "ELM",
        )
        for design in ("ELM", "scan-based")
        for kind in kinds
    ]
    partition = [
        Series(
            f"{design}, {kind.value}",
            tuple(
                Point(size, r.elm if design == "ELM" else r.reference)
                for size, r in measured.partition
                if r.kind is kind
            ),
            dashed=design != "ELM",
        )
        for design in ("ELM", "scan-based")
        for kind in kinds
    ]
    item_signal = tuple(
        Point(size, r.elm_item_signal)
        for size, r in measured.partition
        if r.elm_item_signal is not None
    )
    if item_signal:
        partition.insert(
            len(kinds), Series("ELM, simple-resource-arn, configuration item", item_signal)
        )
    written = [
        write_plot(
            folder / "reads-vs-table.svg",
            "DynamoDB items read per event vs table size",
            "records in the exceptions table",
            "items read per event",
            table,
        ),
        write_plot(
            folder / "reads-vs-partition.svg",
            "DynamoDB items read per event vs records under one AccountId_RuleId",
            "records under the event's AccountId_RuleId",
            "items read per event",
            partition,
        ),
    ]
    sweep = sweep_plot(folder / "sweep-vs-workers.svg", measured.sweep)
    return [*written, *([sweep] if sweep else [])]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the figures, print the table, write it (the full run) to benchmarks/results.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"where to write the markdown (default: {RESULTS} for a full run, none for --quick)",
    )
    args = parser.parse_args(argv)
    # moto and the Lambda toolkit log at INFO; the table is the output.
    logging.basicConfig(level=logging.WARNING)
    start = time.perf_counter()
    measured = Measured()
    sections = run(
        QUICK if args.quick else FULL, lambda line: print(line, file=sys.stderr), measured
    )
    table = render(
        sections,
        heading="ELM benchmarks" + (" (quick)" if args.quick else ""),
        quick=args.quick,
    )
    table += f"\nWhole run: {time.perf_counter() - start:.0f} s.\n"
    print(table)
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.write_text(table, encoding="utf-8")
        print(f"written to {output}", file=sys.stderr)
    if not args.quick and args.output is None:
        for path in draw_plots(measured):
            print(f"plot written to {path}", file=sys.stderr)
        if update_page(PAGE, table):
            print(f"table updated in {PAGE}", file=sys.stderr)
    return 0


def update_page(page: Path, table: str) -> bool:
    """Put ``table`` (without its title) between the page's benchmark markers, if any."""
    text = page.read_text(encoding="utf-8")
    if PAGE_START not in text or PAGE_END not in text:
        return False
    body = table.split("\n", 1)[1].strip()
    # The page's own heading introduces the table; its subsections go one level down.
    body = body.replace("\n## Method\n", "\n### Method\n")
    before, rest = text.split(PAGE_START, 1)
    after = rest.split(PAGE_END, 1)[1]
    page.write_text(f"{before}{PAGE_START}\n{body}\n{PAGE_END}{after}", encoding="utf-8")
    return True


if __name__ == "__main__":
    sys.exit(main())
