"""The configuration item figure: partitions read per event never exceed the covering rules."""

from __future__ import annotations

from benchmarks.item_signal import item_signal
from benchmarks.report import Met


def test_each_event_reads_only_the_partitions_of_the_rules_covering_its_type() -> None:
    section = item_signal(total_rules=6, covering=(1, 2), records=10, events=2)

    judged = [row for row in section.rows if row.met is not Met.NONE]
    assert len(judged) == 4
    assert all(row.met is Met.YES for row in judged), [(r.figure, r.elm) for r in judged]
    assert section.notes == ()
