"""Figure 5's instruction counts: the probe, the callgrind runs and the reason for a miss.

No count or timing is asserted, only how the stages relate and what the rows say.
"""

from __future__ import annotations

import shutil

import pytest

from benchmarks.core import (
    TARGET_EVENTS_PER_SECOND,
    Instructions,
    _main,
    _missed,
    core_throughput,
    instructions_per_event,
)
from benchmarks.report import Met

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is not installed"
)


@pytest.mark.parametrize("mode", ["setup", "parse", "screen", "whole"])
def test_a_probe_handles_every_simple_id_event_of_the_data_set(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(["--probe", mode, "200", "7"]) == 0

    assert capsys.readouterr().out.strip() == "EVENTS 7"


def test_a_probe_refuses_an_unknown_stage() -> None:
    with pytest.raises(SystemExit):
        _main(["--probe", "everything", "200", "7"])


@needs_valgrind
def test_each_stage_counts_more_instructions_than_the_one_inside_it() -> None:
    counted = instructions_per_event(200, 8)

    assert isinstance(counted, Instructions), counted
    assert 0 < counted.parse < counted.screen < counted.whole


def test_without_valgrind_the_counts_are_not_measured_and_say_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)

    section = core_throughput(200, 10, 1, instruction_events=5)

    row = next(r for r in section.rows if r.figure.startswith("CPU instructions"))
    assert row.elm == "not measured: valgrind is not installed"
    assert row.met is Met.NOT_MEASURED


def test_a_missed_target_names_the_budget_and_what_json_alone_takes_of_it() -> None:
    rate = TARGET_EVENTS_PER_SECOND / 2
    counted = Instructions(parse=100_000, screen=200_000, whole=400_000)

    note = _missed(200, 10, rate, counted)

    # At half the target, the budget is half of what an event takes now.
    assert "leaves 200,000 instructions an event" in note
    assert "json.loads of the event's body alone takes 100,000 (50% of that)" in note
    assert "step 3 200,000 (100%)" in note
    assert "nothing for the rule" in note
    assert "an interpreter 2.0 times faster" in note


def test_a_missed_target_says_how_much_cheaper_the_rest_would_have_to_be() -> None:
    rate = TARGET_EVENTS_PER_SECOND / 2
    counted = Instructions(parse=50_000, screen=100_000, whole=400_000)

    note = _missed(200, 10, rate, counted)

    # Budget 200,000; 100,000 left after step 3 for the 300,000 the rest takes.
    assert "leaves 100,000 for the rule" in note
    assert "which take 300,000 today: they would have to be 3.0 times cheaper" in note
