"""`make bench`: every figure, ELM beside the scan-based reference, as a markdown table.

python -m benchmarks.run            # the published figures (under 10 minutes, 2 cores)
python -m benchmarks.run --quick    # small sizes, under a minute: keeps the code working
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from attrs import frozen

from benchmarks.coldstart import cold_start
from benchmarks.core import core_throughput
from benchmarks.endtoend import api_calls_per_event, end_to_end
from benchmarks.reads import reads_per_event
from benchmarks.report import Section, render

__all__ = ["FULL", "QUICK", "README_END", "README_START", "Sizes", "main", "run", "update_readme"]

RESULTS = Path(__file__).with_name("results.md")
README = Path(__file__).parent.parent / "README.md"
README_START = "<!-- benchmarks:start (written by `make bench`) -->"
README_END = "<!-- benchmarks:end -->"


@frozen
class Sizes:
    """How big each figure's run is."""

    read_sizes: tuple[int, ...]
    read_events: int
    reference_read_events: dict[int, int]
    batch_records: int
    batch_events: int
    core_size: int
    core_events: int
    core_repeats: int
    e2e_size: int
    e2e_events: int
    e2e_reference_events: int
    import_runs: int


FULL = Sizes(
    read_sizes=(1_000, 10_000, 100_000),
    read_events=200,
    reference_read_events={1_000: 20, 10_000: 5, 100_000: 2},
    batch_records=10_000,
    batch_events=10,
    core_size=10_000,
    core_events=2_000,
    core_repeats=7,
    e2e_size=10_000,
    e2e_events=100,
    e2e_reference_events=30,
    import_runs=7,
)
QUICK = Sizes(
    read_sizes=(300, 3_000),
    read_events=20,
    reference_read_events={300: 3, 3_000: 2},
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


def run(sizes: Sizes, progress: Callable[[str], None] = lambda _: None) -> list[Section]:
    """Every figure, in the issue's order."""
    steps: Sequence[tuple[str, Callable[[], Section]]] = (
        (
            "reads per event",
            lambda: reads_per_event(
                sizes.read_sizes, sizes.read_events, sizes.reference_read_events
            ),
        ),
        (
            "API calls per event",
            lambda: api_calls_per_event(sizes.batch_records, sizes.batch_events),
        ),
        (
            "core throughput",
            lambda: core_throughput(sizes.core_size, sizes.core_events, sizes.core_repeats),
        ),
        (
            "end to end on moto",
            lambda: end_to_end(sizes.e2e_size, sizes.e2e_events, sizes.e2e_reference_events),
        ),
        ("cold start", lambda: cold_start(sizes.import_runs)),
    )
    sections = []
    for name, step in steps:
        start = time.perf_counter()
        sections.append(step())
        progress(f"{name}: {time.perf_counter() - start:.1f} s")
    return sections


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
    sections = run(QUICK if args.quick else FULL, lambda line: print(line, file=sys.stderr))
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
    if not args.quick and args.output is None and update_readme(README, table):
        print(f"table updated in {README}", file=sys.stderr)
    return 0


def update_readme(readme: Path, table: str) -> bool:
    """Put ``table`` (without its title) between the README's benchmark markers, if any."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return False
    body = table.split("\n", 1)[1].strip()
    # The README's own heading introduces the table; its subsections go one level down.
    body = body.replace("\n## Method\n", "\n#### Method\n")
    before, rest = text.split(README_START, 1)
    after = rest.split(README_END, 1)[1]
    readme.write_text(f"{before}{README_START}\n{body}\n{README_END}{after}", encoding="utf-8")
    return True


if __name__ == "__main__":
    sys.exit(main())
