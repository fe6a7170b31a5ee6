"""Scenario files send either signal: `delete:` with `signal:`, and raw configuration items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app
from entrypoints.local.scenario import ScenarioError, load_scenario

MANAGED_RULE = """
rules:
  - {RuleId: 2, RuleName: restricted-ssh, ExceptionFormat: Resource ID, ExceptionType: Simple,
     ResourceTypes: [AWS::EC2::SecurityGroup]}
exceptions:
  - {AccountId: "111122223333", RuleId: 2, Exception: sg-1, Region: eu-west-1}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _simulate(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["simulate", str(path), "--json"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_a_configuration_item_delete_closes_a_managed_rule_exception(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        MANAGED_RULE
        + """
events:
  - delete: {signal: configuration-item, account: "111122223333", region: eu-west-1,
             type: AWS::EC2::SecurityGroup, id: sg-1, name: web,
             arn: "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1"}
    expect: closed
""",
    )

    (event,) = _simulate(path)["events"]

    assert event["outcome"] == "closed"
    assert event["rule"] == "restricted-ssh"


def test_the_short_form_builds_the_item_the_fields_name(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        MANAGED_RULE
        + """
events:
  - delete: {signal: configuration-item, account: "111122223333", region: eu-west-1,
             type: AWS::EC2::SecurityGroup, id: sg-1, name: web, oversized: true,
             event_id: ci-7}
""",
    )

    (event,) = load_scenario(path).events
    body = json.loads(event.body)

    assert body["id"] == "ci-7"
    assert body["detail-type"] == "Config Configuration Item Change"
    summary = body["detail"]["configurationItemSummary"]
    assert (summary["resourceId"], summary["resourceName"], summary["configurationItemStatus"]) == (
        "sg-1",
        "web",
        "ResourceDeleted",
    )
    assert event.deletion is not None
    assert event.deletion.name == "web"


def test_both_signals_of_one_deletion_give_closed_then_duplicate(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        MANAGED_RULE
        + """
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: restricted-ssh,
             type: AWS::EC2::SecurityGroup, id: sg-1}
  - delete: {signal: configuration-item, account: "111122223333", region: eu-west-1,
             type: AWS::EC2::SecurityGroup, id: sg-1}
""",
    )

    outcomes = [e["outcome"] for e in _simulate(path)["events"]]

    assert outcomes == ["closed", "duplicate"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            "signal: item",
            "events[0].delete.signal must be one of compliance-change, configuration-item "
            "(got 'item')",
        ),
        (
            "signal: configuration-item, rule: restricted-ssh",
            "events[0].delete.rule must not be given: a configuration-item deletion names no rule",
        ),
        (
            "rule: restricted-ssh, arn: 'arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1'",
            "events[0].delete.arn is for signal: configuration-item only",
        ),
        (
            "rule: restricted-ssh, oversized: true",
            "events[0].delete.oversized is for signal: configuration-item only",
        ),
    ],
)
def test_a_bad_signal_choice_is_a_one_line_scenario_error(
    tmp_path: Path, fields: str, reason: str
) -> None:
    path = _write(
        tmp_path,
        MANAGED_RULE
        + f"""
events:
  - delete: {{account: "111122223333", region: eu-west-1, type: AWS::EC2::SecurityGroup,
             id: sg-1, {fields}}}
""",
    )

    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)

    assert str(caught.value).endswith(reason), str(caught.value)
    assert "\n" not in str(caught.value)
