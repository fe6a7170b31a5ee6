"""`elm local` when AWS Config cannot be asked: the record fails and stays on the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.local.pipeline import run_local_pipeline
from entrypoints.local.scenario import load_scenario

pytestmark = [pytest.mark.moto, pytest.mark.slow]

_SCENARIO = """
rules:
  - {RuleId: 1, RuleName: sg-open, ExceptionFormat: Resource ID, ExceptionType: Simple}
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-2, Region: eu-west-1}
inventory:
  resources:
    - {account: "111122223333", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-1}
    - {account: "111122223333", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-2}
  errors:
    - {account: "111122223333", message: "AccessDenied: cannot assume Role-Config-Mgmt"}
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: sg-open,
             type: AWS::EC2::SecurityGroup, id: sg-1}
    expect: failed
"""


def test_a_failed_record_is_reported_to_sqs_and_left_on_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "denied.yaml"
    path.write_text(_SCENARIO)

    report = run_local_pipeline(load_scenario(path))

    (event,) = report.events
    assert event.outcome == "failed"
    assert event.batch_failed
    assert event.log is not None
    assert "AccessDenied" in event.log["reason"]
    assert report.left_on_queue == 1
    assert report.after == report.before
    assert report.sweep is None
