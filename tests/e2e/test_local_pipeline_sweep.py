"""`elm local`'s sweep runs through the deployed handlers: the planner once, then the workers
on the stack's FIFO sweep queue, to the summary the last worker writes in the run ledger.

moto cannot run the Lambdas (no Docker): the pipeline drains the sweep queue into the
worker handler as the event source mapping would. What moto does show is the deployed
queue, DLQ and ledger table the handlers work on, and SQS's redrive of an item that fails
every receive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.aws.sweep_run import DynamoRunLedger
from application.sweep_report import GroupKey, SweepOutcome
from entrypoints.local.moto_aws import PRODUCTION_REGION, isolated_session
from entrypoints.local.pipeline import LocalReport, run_local_pipeline
from entrypoints.local.scenario import load_scenario

pytestmark = [pytest.mark.moto, pytest.mark.slow]

ACCOUNT = "111122223333"
DENIED = "444455556666"


def _scenario(*, denied: bool) -> str:
    """Two records for the sweep in ACCOUNT (one deleted, its event lost; one live), one in
    DENIED whose Config role is refused (when ``denied``), and one closed by its event."""
    errors = (
        f"""  errors:
    - {{account: "{DENIED}", message: "AccessDenied: cannot assume Role-Config-Mgmt"}}
"""
        if denied
        else ""
    )
    expect = (
        "{closed: 1, not-confirmed: 1, failed: 1}" if denied else "{closed: 1, not-confirmed: 2}"
    )
    return f"""
settings:
  allowed_accounts: ["{ACCOUNT}", "{DENIED}"]
rules:
  - {{RuleId: 1, RuleName: sg-open, ExceptionFormat: Resource ID, ExceptionType: Simple,
     ResourceTypes: [AWS::EC2::SecurityGroup]}}
exceptions:
  - {{AccountId: "{ACCOUNT}", RuleId: 1, Exception: sg-lost, Region: eu-west-1}}
  - {{AccountId: "{ACCOUNT}", RuleId: 1, Exception: sg-live, Region: eu-west-1}}
  - {{AccountId: "{ACCOUNT}", RuleId: 1, Exception: sg-evented, Region: eu-west-1}}
  - {{AccountId: "{DENIED}", RuleId: 1, Exception: sg-other, Region: eu-west-1}}
inventory:
  resources:
    - {{account: "{ACCOUNT}", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-lost,
       deleted: true}}
    - {{account: "{ACCOUNT}", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-live}}
    - {{account: "{ACCOUNT}", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-evented}}
    - {{account: "{DENIED}", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-other}}
{errors}events:
  - delete: {{account: "{ACCOUNT}", region: eu-west-1, rule: sg-open,
             type: AWS::EC2::SecurityGroup, id: sg-evented}}
    expect: closed
sweep:
  expect: {expect}
"""


def _client(endpoint: str, service: str) -> Any:
    return isolated_session("elm-local", "elm-local").client(
        service,  # type: ignore[call-overload]
        region_name=PRODUCTION_REGION,
        endpoint_url=endpoint,
    )


def test_the_sweep_goes_planner_queue_workers_and_a_failing_group_is_dead_lettered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(_scenario(denied=True))
    seen: dict[str, Any] = {}

    def inspect(report: LocalReport) -> None:
        outputs = _stack_outputs(report.endpoint)
        sqs = _client(report.endpoint, "sqs")
        ledger = DynamoRunLedger(
            _client(report.endpoint, "dynamodb"), outputs["SweepRunsTableName"]
        )
        assert report.sweep is not None
        seen["totals"] = ledger.totals(report.sweep.run_id)
        seen["summary"] = ledger.summary(report.sweep.run_id)
        seen["queue"] = sqs.get_queue_attributes(
            QueueUrl=outputs["SweepQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]

    report = run_local_pipeline(load_scenario(path), serve=inspect)

    sweep = report.sweep
    assert sweep is not None
    assert sweep.run_id == "sweep-elm-local"
    assert report.unmet_sweep == []
    assert [k.key for k in report.recovered] == ["sg-lost"]
    # The denied account's chunk failed every receive and waits in the sweep DLQ; the run
    # stays open until it is redriven, and says so.
    (failure,) = sweep.failures
    assert failure.group == GroupKey(DENIED, "eu-west-1", "AWS::EC2::SecurityGroup")
    assert "AccessDenied" in failure.reason
    assert sweep.stopped is not None
    assert sweep.count(SweepOutcome.FAILED) == 1
    totals = seen["totals"]
    assert totals is not None
    assert totals.finished == totals.planned - 1
    assert totals.failures >= 5  # every receive of the failing item counted
    assert seen["summary"] is None
    assert seen["queue"] == "0"
    # What the run wrote names it: the History entry that closed the lost deletion.
    (closed,) = [r for r in report.after if r.key == "sg-lost"]
    assert closed.is_closed
    assert "sweep-elm-local" in {h.event_id for h in closed.history}


def test_a_run_with_nothing_failing_finishes_with_the_last_workers_summary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(_scenario(denied=False))
    seen: dict[str, Any] = {}

    def inspect(report: LocalReport) -> None:
        outputs = _stack_outputs(report.endpoint)
        ledger = DynamoRunLedger(
            _client(report.endpoint, "dynamodb"), outputs["SweepRunsTableName"]
        )
        assert report.sweep is not None
        seen["summary"] = ledger.summary(report.sweep.run_id)

    report = run_local_pipeline(load_scenario(path), serve=inspect)

    sweep = report.sweep
    assert sweep is not None
    assert sweep.failures == ()
    assert sweep.stopped is None
    summary = seen["summary"]
    assert summary is not None
    assert summary["counts"] == {o.value: n for o, n in sweep.counts.items()}
    # Four segments, and one chunk per group they found.
    assert summary["workItems"] == 4 + sweep.groups


def _stack_outputs(endpoint: str) -> dict[str, str]:
    cloudformation = _client(endpoint, "cloudformation")
    (stack,) = cloudformation.describe_stacks(StackName="elm-status-update")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
