"""A scenario's `sweep`: the reconciliation sweep after the events, in `elm simulate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from entrypoints.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

LOST = """
rules:
  - {RuleId: 1, RuleName: prod-sg-no-open-ingress, ExceptionFormat: Resource ID,
     ExceptionType: Simple, ResourceTypes: [AWS::EC2::SecurityGroup]}
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-lost, Region: eu-west-1}
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-live, Region: eu-west-1}
inventory:
  resources:
    - {account: "111122223333", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-lost,
       deleted: true}
    - {account: "111122223333", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-live}
events:
  - file: events/not-a-deletion.json
"""


def _simulate(path: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["simulate", str(path), *args], env={"COLUMNS": "250"})


def _scenario(tmp_path: Path, sweep: str) -> Path:
    (tmp_path / "events").mkdir()
    source = EXAMPLES / "events" / "not-a-deletion.json"
    (tmp_path / "events" / "not-a-deletion.json").write_text(source.read_text())
    path = tmp_path / "scenario.yaml"
    path.write_text(LOST + sweep, encoding="utf-8")
    return path


def _record(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(e for e in document["exceptions"] if e["Exception"] == key)


def test_the_demo_recovers_a_deletion_whose_event_was_lost() -> None:
    result = _simulate(EXAMPLES / "estate.yaml", "--json")

    document = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    lost = _record(document, "sg-0c3d4e5f60718293a")
    assert lost["ExceptionStatus"] == "RESOURCE_DELETED"
    assert [h["Action"] for h in lost["History"]] == ["reconciled"]
    sweep = document["sweep"]
    assert [c["exception"] for c in sweep["changes"]] == ["sg-0c3d4e5f60718293a"]
    assert sweep["outcomes"] == sweep["expected"]


def test_the_demo_text_report_says_the_sweep_closed_it() -> None:
    result = _simulate(EXAMPLES / "estate.yaml")

    assert result.exit_code == 0, result.output
    section = result.stdout.split("Reconciliation sweep", 1)[1].split("Exceptions after", 1)[0]
    assert "sg-0c3d4e5f60718293a" in section
    assert "closed" in section
    assert "✓ as expected" in section


def test_sweep_true_runs_it_without_expectations(tmp_path: Path) -> None:
    result = _simulate(_scenario(tmp_path, "sweep: true\n"), "--json")

    document = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert document["sweep"]["outcomes"] == {"closed": 1, "not-confirmed": 1}
    assert _record(document, "sg-live")["ExceptionStatus"] == "ACTIVE"


def test_an_unmet_sweep_expectation_exits_1_naming_both_counts(tmp_path: Path) -> None:
    result = _simulate(_scenario(tmp_path, "sweep: {expect: {closed: 2}}\n"))

    assert result.exit_code == 1
    assert "sweep expected closed 2, got closed 1, not-confirmed 1" in result.stderr


def test_a_dry_run_override_drops_the_sweep_expectation_and_writes_nothing(
    tmp_path: Path,
) -> None:
    result = _simulate(_scenario(tmp_path, "sweep: {expect: {closed: 5}}\n"), "--dry-run", "--json")

    document = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert document["sweep"]["dry_run"] is True
    assert _record(document, "sg-lost")["ExceptionStatus"] == "ACTIVE"


def test_an_unknown_sweep_outcome_is_a_scenario_error_naming_its_place(tmp_path: Path) -> None:
    result = _simulate(_scenario(tmp_path, "sweep: {expect: {vanished: 1}}\n"))

    assert result.exit_code == 2
    assert "sweep.expect.vanished is not a sweep outcome" in result.stderr


def test_a_negative_sweep_count_is_a_scenario_error(tmp_path: Path) -> None:
    result = _simulate(_scenario(tmp_path, "sweep: {expect: {closed: -1}}\n"))

    assert result.exit_code == 2
    assert "sweep.expect.closed must be a count" in result.stderr


def test_the_events_and_the_sweep_count_their_config_calls_apart(tmp_path: Path) -> None:
    result = _simulate(_scenario(tmp_path, "sweep: true\n"), "--json")

    document = json.loads(result.stdout)
    assert document["summary"]["config_calls"] == 0  # the one event is not a deletion
    assert document["sweep"]["config_calls"] == 1
