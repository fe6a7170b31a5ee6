"""The sweep figure's generator, time model and whole run on the twins (no timing asserted)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from application.sweep_run import RunSettings
from benchmarks.plots import Point, Series
from benchmarks.report import Met
from benchmarks.run import Measured, draw_plots
from benchmarks.sweep import (
    ChunkCalls,
    account_sizes,
    generate_estate,
    run_on_twins,
    sweep_bounds,
    sweep_figures,
    sweep_seconds,
)

REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")


def test_account_sizes_sum_to_the_records_asked_the_first_account_largest() -> None:
    sizes = account_sizes(100_000, 2_000)

    assert sum(sizes) == 100_000
    assert len(sizes) == 2_000
    assert min(sizes) >= 1
    assert sizes == sorted(sizes, reverse=True)


def test_the_generated_estate_has_the_asked_shape() -> None:
    estate = generate_estate(6_000, 40, REGIONS)

    assert len(estate.records) == 6_000
    assert len({r.record_key for r in estate.records}) == 6_000
    assert len({r.account_id for r in estate.records}) == 40
    assert {r.region for r in estate.records} == set(REGIONS)
    assert {r.rule_id for r in estate.records} == {1, 2, 3}
    assert all(not r.is_closed for r in estate.records)
    assert len(estate.deleted) == 60
    assert estate.deleted <= {r.key for r in estate.records}
    # Each account's records are dealt evenly over the regions.
    per_region = Counter((r.account_id, r.region) for r in estate.records)
    for account in {r.account_id for r in estate.records}:
        counts = [per_region[(account, region)] for region in REGIONS]
        assert max(counts) - min(counts) <= 3


def test_a_run_on_the_twins_works_every_record_and_closes_every_deleted_one() -> None:
    estate = generate_estate(3_000, 20, REGIONS)
    settings = RunSettings(segments=4, chunk_records=100)

    counts = run_on_twins(estate, settings, rate=2.0)

    assert counts.finished
    assert counts.segments == 4
    assert counts.closed == len(estate.deleted) == 30
    # Each record is read once by its segment and once by its chunk.
    assert counts.segment_reads == counts.chunk_reads == 3_000
    # Chunks of at most 100 records: one batch read each, and no record read alone.
    assert counts.chunk_read_calls == len(counts.chunks) == counts.chunk_read_calls_needed
    assert counts.chunk_gets == 0
    # No chunk holds more than ELM_SWEEP_CHUNK_RECORDS records, so it makes at most 5 calls.
    assert all(0 < c.calls <= 5 for c in counts.chunks)
    assert sum(c.calls for c in counts.chunks) == counts.config_calls
    assert sum(counts.calls_by_group.values()) == counts.config_calls
    assert len(counts.calls_by_group) == 20 * len(REGIONS)
    assert counts.messages == 4 + len(counts.chunks)


def test_one_worker_takes_every_call_at_the_rate() -> None:
    chunks = [ChunkCalls("a#r", 3), ChunkCalls("b#r", 5), ChunkCalls("a#r", 2)]

    assert sweep_seconds(chunks, 1, 2.0) == pytest.approx(10 / 2.0)


def test_an_account_region_is_worked_by_one_worker_at_a_time() -> None:
    # One busy account-region and two small ones: more workers cannot split the busy one.
    chunks = [ChunkCalls("busy#r", 10)] * 4 + [ChunkCalls("a#r", 1), ChunkCalls("b#r", 1)]

    assert sweep_seconds(chunks, 50, 1.0) == pytest.approx(40.0)


def test_the_modelled_time_lies_between_its_bounds() -> None:
    estate = generate_estate(4_000, 30, REGIONS)
    counts = run_on_twins(estate, RunSettings(segments=2, chunk_records=50))

    for workers in (1, 3, 10, 50, 500):
        spread, busiest = sweep_bounds(counts.calls_by_group, workers, 2.0)
        modelled = sweep_seconds(counts.chunks, workers, 2.0)
        assert max(spread, busiest) <= modelled + 1e-9
        assert modelled <= spread + busiest + 1e-9
    # With more workers than account-regions the busiest one binds.
    spread, busiest = sweep_bounds(counts.calls_by_group, 500, 2.0)
    assert sweep_seconds(counts.chunks, 500, 2.0) == pytest.approx(busiest)


def test_the_figure_meets_its_targets_and_hands_the_plot_a_point_per_worker_count() -> None:
    section, series = sweep_figures(2_000, 20, REGIONS, workers=(1, 10, 50))

    assert all(row.met is not Met.NO for row in section.rows)
    modelled, spread, busiest = series
    assert [p.x for p in modelled.points] == [1, 10, 50]
    times = [p.y for p in modelled.points]
    assert times == sorted(times, reverse=True)
    for run, low, high in zip(modelled.points, spread.points, busiest.points, strict=True):
        assert run.y >= max(low.y, high.y) - 1e-9
    assert "ELM_SWEEP_CALLS_PER_SECOND" in section.method


def test_the_sweep_plot_is_written_with_the_other_plots(tmp_path: Path) -> None:
    measured = Measured(
        sweep=[Series("1,000 records", (Point(1, 100.0), Point(10, 10.0), Point(50, 2.0)))]
    )

    written = draw_plots(measured, tmp_path)

    assert written[-1].name == "sweep-vs-workers.svg"
    assert "1,000 records" in written[-1].read_text(encoding="utf-8")


def test_a_whole_sweep_on_moto_reads_each_record_twice_and_closes_every_deleted_one() -> None:
    from benchmarks.sweep_moto import sweep_on_moto

    section = sweep_on_moto(400, 4)

    assert all(row.met is not Met.NO for row in section.rows)
    assert any(row.met is Met.YES for row in section.rows)
    assert "moto cannot show" in section.method
