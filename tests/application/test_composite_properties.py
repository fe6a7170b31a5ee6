"""Properties of composite exceptions over any order of reports, repeats included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.outcomes import Outcome
from tests.application.estate import COMPOSITE_ID, VOLUME, event, new_estate

_members = st.lists(
    st.from_regex(r"vol-[0-9a-f]{1,6}", fullmatch=True), min_size=1, max_size=6, unique=True
)


@st.composite
def _deliveries(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Members of a group, and a sequence of reports about some of them (repeats allowed)."""
    members = draw(_members)
    reports = draw(st.lists(st.sampled_from(members), max_size=3 * len(members)))
    return members, reports


@settings(max_examples=30, deadline=None)
@given(_deliveries())
def test_closes_exactly_when_every_member_was_reported_and_each_is_recorded_once(
    case: tuple[list[str], list[str]],
) -> None:
    members, reports = case
    estate = new_estate()
    key = estate.exception(COMPOSITE_ID, ",".join(members))
    for member in members:
        estate.existing(VOLUME, member)
    outcomes = []
    for number, member in enumerate(reports):
        estate.deleted(VOLUME, member)
        outcomes.append(estate.run(event(COMPOSITE_ID, VOLUME, member, event_id=f"e{number}")))
    record = estate.record(key)
    reported = set(reports)
    assert record.deleted_members == frozenset(reported)
    assert record.is_closed is (reported == set(members))
    # One write per newly recorded member; repeats are duplicates and write nothing.
    assert len(estate.store.writes) == len(reported)
    assert sum(r.outcome is Outcome.DUPLICATE for r in outcomes) == len(reports) - len(reported)
    assert sum(r.outcome is Outcome.CLOSED for r in outcomes) == (1 if record.is_closed else 0)
    assert len({e.identity for e in record.history}) == len(record.history)
