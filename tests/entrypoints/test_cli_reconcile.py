"""`elm reconcile` on an injected in-memory container."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from attrs import define, field
from injector import Injector
from typer.testing import CliRunner

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
    ManualTimer,
)
from application.ports import UnreadableItem
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.cli import app
from entrypoints.composition.container import InMemoryModule, build_container
from entrypoints.composition.settings import Settings

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
RULE = Rule(1, "sg-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
LOST = RecordKey(ACCOUNT, 1, "sg-0lost")
ALIVE = RecordKey(ACCOUNT, 1, "sg-0alive")
ELSEWHERE = RecordKey(OTHER_ACCOUNT, 1, "sg-0far")


@define
class Estate:
    """Two accounts: one lost deletion, one live resource, one deletion in another account."""

    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    inventory: InMemoryInventory = field(factory=InMemoryInventory)

    def __attrs_post_init__(self) -> None:
        self.rules.add(RULE)
        for key in (LOST, ALIVE, ELSEWHERE):
            self.store.add(ExceptionRecord(key, REGION, resource_type=SG))
        self.inventory.put(ACCOUNT, REGION, SG, LOST.key, deleted=True)
        self.inventory.put(ACCOUNT, REGION, SG, ALIVE.key, deleted=False)
        self.inventory.put(OTHER_ACCOUNT, REGION, SG, ELSEWHERE.key, deleted=True)

    def container(self) -> Injector:
        return build_container(
            InMemoryModule(
                Settings(),
                rules=self.rules,
                store=self.store,
                inventory=self.inventory,
                clock=FixedClock(),
                timer=ManualTimer(),
            )
        )

    def closed(self, key: RecordKey) -> bool:
        record = self.store.get(key)
        assert record is not None
        return record.is_closed


@pytest.fixture
def estate() -> Estate:
    return Estate()


@pytest.fixture
def no_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "0")


def _run(estate: Estate, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["reconcile", *args], obj=estate.container())
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("no_tty")
def test_the_sweep_closes_lost_deletions_and_prints_the_summary_tables(estate: Estate) -> None:
    code, out, _ = _run(estate)

    assert code == 0
    assert estate.closed(LOST)
    assert estate.closed(ELSEWHERE)
    assert not estate.closed(ALIVE)
    assert "3 open records scanned" in out
    for heading in ("Outcomes", "Per account", "Changed"):
        assert heading in out
    assert "sg-0lost" in out
    assert "reconciling" not in out  # no progress bar when not on a terminal


def test_json_gives_counts_per_outcome_and_per_account(estate: Estate) -> None:
    code, out, _ = _run(estate, "--json")

    summary = json.loads(out)
    assert code == 0
    assert summary["outcomes"] == {"closed": 2, "not-confirmed": 1}
    assert summary["accounts"] == {
        ACCOUNT: {"closed": 1, "not-confirmed": 1},
        OTHER_ACCOUNT: {"closed": 1},
    }
    assert {c["exception"] for c in summary["changes"]} == {"sg-0lost", "sg-0far"}
    assert summary["complete"] is True
    assert summary["config_calls"] == 2


def test_dry_run_writes_nothing_and_says_so(estate: Estate) -> None:
    code, out, _ = _run(estate, "--dry-run", "--json")

    summary = json.loads(out)
    assert code == 0
    assert summary["dry_run"] is True
    assert summary["outcomes"]["closed"] == 2
    assert not estate.closed(LOST)
    assert estate.store.writes == []


def test_account_and_region_options_narrow_the_sweep(estate: Estate) -> None:
    code, out, _ = _run(estate, "--account", OTHER_ACCOUNT, "--region", REGION, "--json")

    assert code == 0
    assert json.loads(out)["accounts"] == {OTHER_ACCOUNT: {"closed": 1}}
    assert not estate.closed(LOST)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--account", "1234"], "--account must be a 12-digit account id"),
        (["--region", "Europe"], "--region is not a region name"),
        (["--budget-seconds", "0"], "--budget-seconds must be positive"),
        (["--resume-from", "nonsense"], "resume cursor must be ACCOUNT/REGION/TYPE"),
    ],
)
def test_bad_input_exits_2_with_a_one_line_reason(
    estate: Estate, args: list[str], message: str
) -> None:
    code, _, err = _run(estate, *args)

    lines = err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"elm: {message}")
    assert estate.store.writes == []


@pytest.mark.usefixtures("no_tty")
def test_a_failed_group_is_shown_and_exits_1(estate: Estate) -> None:
    estate.inventory.failure = "AccessDenied: not authorized to assume Role-Config-Mgmt"

    code, out, _ = _run(estate)

    assert code == 1
    assert "Failed groups" in out
    assert "AccessDenied" in out


@pytest.mark.usefixtures("no_tty")
def test_a_spent_budget_says_where_to_resume_and_the_resumed_run_finishes(
    estate: Estate,
) -> None:
    # Two groups of one account: the second call waits for the account's next call slot,
    # which lies past this budget.
    estate.store.add(
        ExceptionRecord(RecordKey(ACCOUNT, 1, "sg-0west"), "us-west-2", resource_type=SG)
    )
    estate.inventory.put(ACCOUNT, "us-west-2", SG, "sg-0west", deleted=True)
    container = estate.container()
    runner = CliRunner()

    first = runner.invoke(
        app, ["reconcile", "--account", ACCOUNT, "--budget-seconds", "0.4"], obj=container
    )
    cursor = f"{ACCOUNT}/us-west-2/{SG}"
    second = runner.invoke(app, ["reconcile", "--resume-from", cursor, "--json"], obj=container)

    assert first.exit_code == 0
    assert f"resume with --resume-from {cursor}" in first.stdout
    assert json.loads(second.stdout)["complete"] is True
    assert estate.closed(RecordKey(ACCOUNT, 1, "sg-0west"))


def test_on_a_terminal_a_progress_bar_runs(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")

    code, out, _ = _run(estate)

    assert code == 0
    assert "reconciling" in out
    assert estate.closed(LOST)


@pytest.mark.usefixtures("no_tty")
def test_an_open_record_carrying_a_ttl_is_shown_with_when_it_expires(estate: Estate) -> None:
    estate.store.add(ExceptionRecord(ALIVE, REGION, resource_type=SG, ttl=1_900_000_000))

    code, out, _ = _run(estate)
    _, as_json, _ = _run(estate, "--json")

    assert code == 0
    assert "DynamoDB will delete them" in out
    assert "elm exceptions reopen" in out
    assert "2030-03-17 17:46" in out  # 1,900,000,000 s after the epoch, in UTC
    assert json.loads(as_json)["expiring"] == [
        {
            "account": ACCOUNT,
            "rule_id": 1,
            "exception": ALIVE.key,
            "region": REGION,
            "ttl": 1_900_000_000,
        }
    ]


class OneBadItem(InMemoryExceptionStore):
    """A table holding, besides its records, one item that does not read as a record."""

    def scan_open(
        self, page_size: int = 100, on_unreadable: Callable[[UnreadableItem], None] | None = None
    ) -> Iterator[ExceptionRecord]:
        assert on_unreadable is not None, "the sweep must not let one bad item end the scan"
        on_unreadable(UnreadableItem("(AccountId_RuleId=x_1, Exception=bad)", "RuleId is bad"))
        yield from super().scan_open(page_size, on_unreadable)

    def scan_open_segment(
        self,
        segment: int,
        total_segments: int,
        page_size: int = 100,
        on_unreadable: Callable[[UnreadableItem], None] | None = None,
    ) -> Iterator[ExceptionRecord]:
        # A parallel Scan returns each item in exactly one segment: the bad one in the first.
        assert on_unreadable is not None, "the sweep must not let one bad item end the scan"
        if segment == 0:
            on_unreadable(UnreadableItem("(AccountId_RuleId=x_1, Exception=bad)", "RuleId is bad"))
        yield from super().scan_open_segment(segment, total_segments, page_size, on_unreadable)


@pytest.mark.usefixtures("no_tty")
def test_an_unreadable_item_is_listed_and_the_rest_is_swept(estate: Estate) -> None:
    bad = OneBadItem()
    for record in estate.store.scan_all():
        bad.add(record)
    estate.store = bad

    code, out, _ = _run(estate)
    _, as_json, _ = _run(estate, "--json")

    assert code == 0
    assert "Unreadable items (skipped)" in out
    assert "Exception=bad" in out
    assert estate.closed(LOST)
    assert json.loads(as_json)["unreadable"] == [
        {"item": "(AccountId_RuleId=x_1, Exception=bad)", "reason": "RuleId is bad"}
    ]
