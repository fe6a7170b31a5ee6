"""The figures' structural claims, on tiny sizes (no timing is asserted anywhere)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.aws import elm_adapters_available
from benchmarks.data import KINDS
from benchmarks.endtoend import handler_available
from benchmarks.report import Met, Row, Section, render
from benchmarks.run import PAGE_END, PAGE_START, Measured, Sizes, draw_plots, run, update_page
from domain.rules import ExceptionKind

needs_elm_adapters = pytest.mark.skipif(
    elm_adapters_available() is not None, reason=str(elm_adapters_available())
)
needs_handler = pytest.mark.skipif(handler_available() is not None, reason=str(handler_available()))

TINY = Sizes(
    read_sizes=(200, 1_500),
    read_events=6,
    reference_read_events={200: 2, 1_500: 1},
    partition_sizes=(1, 30, 300),
    partition_events=3,
    partition_reference_events=1,
    correctness_size=300,
    correctness_events=4,
    batch_records=2_000,
    batch_events=3,
    core_size=200,
    core_events=20,
    core_repeats=1,
    e2e_size=300,
    e2e_events=3,
    e2e_reference_events=3,
    import_runs=1,
)


@needs_elm_adapters
def test_elm_reads_only_the_events_partition_and_the_cached_rules() -> None:
    from benchmarks.reads import measure_reads

    for size in TINY.read_sizes:
        for counts in measure_reads(size, TINY.read_events, 2):
            if counts.kind is ExceptionKind.SIMPLE_ID:
                # Its key, by GetItem: the open record under the event's resource ID.
                assert counts.elm == pytest.approx(1 + counts.elm_rules)
            else:
                assert counts.elm == pytest.approx(counts.elm_partition + counts.elm_rules)
            # The rules table is read once for the whole run, not once per event.
            assert counts.elm_rules == pytest.approx(50 / (3 * TINY.read_events))


@needs_elm_adapters
def test_elm_reads_fewer_items_than_the_reference_and_the_gap_grows_with_the_table() -> None:
    from benchmarks.reads import measure_reads

    small, large = (
        {c.kind: c for c in measure_reads(size, TINY.read_events, 1)} for size in (200, 1_500)
    )

    for kind in KINDS:
        assert small[kind].elm < small[kind].reference
        assert large[kind].elm < large[kind].reference
    for kind in (ExceptionKind.SIMPLE_ARN, ExceptionKind.COMPOSITE):
        assert large[kind].reference / large[kind].elm > small[kind].reference / small[kind].elm


@needs_handler
def test_a_batch_from_one_account_assumes_its_role_once_and_the_reference_once_per_event() -> None:
    from benchmarks.endtoend import measure_batch_calls

    for batch in measure_batch_calls(TINY.batch_records, TINY.batch_events):
        assert batch.elm_failed == 0
        assert batch.elm.calls[("sts", "AssumeRole")] == 1
        assert batch.reference.calls[("sts", "AssumeRole")] == batch.events
        if batch.kind is ExceptionKind.SIMPLE_ID:
            # The seed design writes a Resource-ID event's item unread; ELM reads it first
            # (one GetItem per event) and reads the rules once for the batch.
            assert batch.elm.operations("dynamodb") == {
                "GetItem": batch.events,
                "Scan": 1,
                "UpdateItem": batch.events,
            }
            assert batch.reference.service_calls("dynamodb") == 2 * batch.events
        else:
            assert batch.elm.service_calls("dynamodb") < batch.reference.service_calls("dynamodb")
        assert ("dynamodb", "Scan") not in batch.elm.calls or (
            batch.elm.calls[("dynamodb", "Scan")] == 1  # the rules table, once per container
        )


@needs_handler
def test_both_handlers_close_what_the_events_name_end_to_end() -> None:
    from benchmarks.endtoend import measure_end_to_end

    result = measure_end_to_end(TINY.e2e_size, TINY.e2e_events, TINY.e2e_reference_events)

    assert result.elm_failed == 0
    assert result.elm_events == 3 * TINY.e2e_events
    assert set(result.reference_outcomes) <= {"closed", "member-deleted"}
    assert sum(result.reference_outcomes.values()) == TINY.e2e_reference_events


@needs_elm_adapters
def test_exact_key_reads_stay_flat_as_the_partition_grows_and_the_others_follow_it() -> None:
    from benchmarks.reads import MAX_EXACT_READS, reads_per_partition

    section, measured = reads_per_partition(TINY.partition_sizes, TINY.partition_events, 1)

    by = {(size, r.kind): r for size, r in measured}
    smallest, largest = min(TINY.partition_sizes), max(TINY.partition_sizes)
    for size in TINY.partition_sizes:
        assert by[(size, ExceptionKind.SIMPLE_ID)].elm <= MAX_EXACT_READS
    for kind in (ExceptionKind.SIMPLE_ARN, ExceptionKind.COMPOSITE):
        assert by[(largest, kind)].elm > 10 * by[(smallest, kind)].elm
    # The ARN kind's deletions as configuration items carry the recorded ARN: its exact key.
    for size in TINY.partition_sizes:
        from_item = by[(size, ExceptionKind.SIMPLE_ARN)].elm_item_signal
        assert from_item is not None
        assert 0 < from_item <= MAX_EXACT_READS
    assert len(section.rows) == len(TINY.partition_sizes) * (len(KINDS) + 1)
    assert len(section.notes) == len(KINDS)


def test_plots_are_svg_with_a_line_per_design_and_kind(tmp_path: Path) -> None:
    from benchmarks.reads import KindReads, ReadCounts

    measured = Measured(
        table=[
            ReadCounts(size, kind, 1.0, 0.1, 2.0, 50.0 * size, 5, 1)
            for size in (100, 1_000)
            for kind in KINDS
        ],
        partition=[
            (
                size,
                KindReads(
                    kind,
                    1.0,
                    0.1,
                    10.0 * size,
                    5,
                    1,
                    elm_item_signal=1.0 if kind is ExceptionKind.SIMPLE_ARN else None,
                ),
            )
            for size in (1, 100)
            for kind in KINDS
        ],
    )

    written = draw_plots(measured, tmp_path)

    assert [p.name for p in written] == ["reads-vs-table.svg", "reads-vs-partition.svg"]
    for path in written:
        svg = path.read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<?xml")
        assert "<svg" in svg
        for kind in KINDS:
            assert f"ELM, {kind.value}" in svg
            assert f"scan-based, {kind.value}" in svg
    assert "simple-resource-arn, configuration item" in written[1].read_text(encoding="utf-8")


def test_quick_run_renders_every_figure_with_its_target() -> None:
    sections = run(TINY)
    table = render(sections, heading="ELM benchmarks", quick=True)

    assert [s.title for s in sections][4] == "Core throughput"
    for number in range(1, 8):
        assert f"\n| {number} | " in table
    assert ">= 20,000" in table
    assert "adds <= 60%" in table
    assert "<= 500 KB" in table
    assert table.count("\n| ") == sum(len(s.rows) for s in sections) + 1


def test_a_missed_target_is_listed_under_the_table() -> None:
    sections = [
        Section("Fast", "m", (Row("a", "1", target="t", met=Met.YES),)),
        Section("Slow", "m", (Row("b", "1", target="t", met=Met.NO),), ("why and the fix",)),
    ]

    table = render(sections, heading="h", quick=False)

    assert "Missed targets: 2. Slow" in table
    assert "why and the fix" in table


def test_page_table_is_replaced_between_the_markers_only(tmp_path: Path) -> None:
    readme = tmp_path / "performance.md"
    readme.write_text(
        f"# ELM\nintro\n{PAGE_START}\nold table\n{PAGE_END}\n## After\nkept\n", encoding="utf-8"
    )

    assert update_page(readme, "# ELM benchmarks\n\n| new | table |\n\n## Method\n\n1. m\n")

    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text
    assert f"{PAGE_START}\n| new | table |\n\n### Method\n\n1. m\n{PAGE_END}" in text
    assert text.startswith("# ELM\nintro\n")
    assert text.endswith("## After\nkept\n")


def test_page_without_markers_is_left_alone(tmp_path: Path) -> None:
    readme = tmp_path / "performance.md"
    readme.write_text("# ELM\n", encoding="utf-8")

    assert not update_page(readme, "# t\n| a |\n")
    assert readme.read_text(encoding="utf-8") == "# ELM\n"


@needs_handler
def test_cold_start_runs_the_handler_from_the_unzipped_package_beside_boto3() -> None:
    from benchmarks.coldstart import cold_start
    from entrypoints.local.lambda_zip import LAMBDA_PYTHON

    section = cold_start(1)

    figures = [r.figure for r in section.rows]
    assert figures[0].startswith("first invocation (import + one record) vs boto3 + one client")
    assert figures[1:] == [
        "the same from the source-only zip (`elm package --source`)",
        figures[2],
        "`elm package --source` zip size",
    ]
    assert figures[2].startswith("`elm package` zip size (")
    assert all(r.met is not Met.NOT_MEASURED for r in section.rows)
    assert section.rows[0].reference.startswith("boto3 + one client: ")
    # Which zip and which Python the first row measured is said in the figure itself.
    assert LAMBDA_PYTHON in figures[0]
    assert "bytecode" in figures[0] or "source" in figures[0]


@needs_handler
def test_cold_start_without_the_runtimes_python_says_it_measured_the_source_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Python 3.13 to be found (none on the PATH, an empty pyenv), for this process and
    the `elm package` it runs: the source-only zip, measured in this Python, and said so."""
    import os
    import sys

    from benchmarks.coldstart import cold_start
    from entrypoints.local.lambda_zip import LAMBDA_PYTHON

    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    )
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    if Path(f"/usr/bin/python{LAMBDA_PYTHON}").exists():
        pytest.skip(f"/usr/bin/python{LAMBDA_PYTHON} exists: cannot hide the runtime's Python")

    section = cold_start(1)

    assert f"source only: no Python {LAMBDA_PYTHON} here" in section.rows[0].figure
    assert section.rows[0].met is not Met.NOT_MEASURED
    assert any(n.startswith("Not measured in the runtime's Python") for n in section.notes)
    assert f"no Python {LAMBDA_PYTHON} here" in section.method


@needs_elm_adapters
def test_elm_changes_only_what_the_events_call_for_and_the_seed_design_does_not() -> None:
    from benchmarks.correctness import measure_changes, with_decoys
    from benchmarks.data import generate

    elm, reference = measure_changes(with_decoys(generate(300, TINY.correctness_events)))

    assert elm.expected == 3 * TINY.correctness_events
    assert (elm.right, elm.wrong) == (elm.expected, 0)
    # Substring matches, unread writes and composites closed on their first member.
    assert reference.wrong > 0
    assert reference.right < reference.expected
