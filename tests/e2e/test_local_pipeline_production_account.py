"""The production account is a target account too: its own deletions close its exceptions.

The StackSet deploys elm-send-events.yaml to the production account as to every other one:
`Role-Config-Mgmt` exists there, its other regions forward to the production bus, and in the
production region its Config events are on that bus already, where the production rule
queues them (no forwarding rule there: it would send each event to itself).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.records import CLOSED_STATUS
from entrypoints.local.moto_aws import PRODUCTION_ACCOUNT, PRODUCTION_REGION
from entrypoints.local.pipeline import run_local_pipeline
from entrypoints.local.scenario import load_scenario

pytestmark = [pytest.mark.moto, pytest.mark.slow]

_SG = "AWS::EC2::SecurityGroup"
_SCENARIO = f"""
rules:
  - {{RuleId: 1, RuleName: sg-open, ExceptionFormat: Resource ID, ExceptionType: Simple}}
exceptions:
  - {{AccountId: "{PRODUCTION_ACCOUNT}", RuleId: 1, Exception: sg-home,
     Region: {PRODUCTION_REGION}}}
  - {{AccountId: "{PRODUCTION_ACCOUNT}", RuleId: 1, Exception: sg-away, Region: eu-west-1}}
  - {{AccountId: "111122223333", RuleId: 1, Exception: sg-target, Region: eu-west-1}}
inventory:
  resources:
    - {{account: "{PRODUCTION_ACCOUNT}", region: {PRODUCTION_REGION}, type: {_SG}, id: sg-home}}
    - {{account: "{PRODUCTION_ACCOUNT}", region: eu-west-1, type: {_SG}, id: sg-away}}
    - {{account: "111122223333", region: eu-west-1, type: {_SG}, id: sg-target}}
events:
  - delete: {{account: "{PRODUCTION_ACCOUNT}", region: {PRODUCTION_REGION}, rule: sg-open,
             type: {_SG}, id: sg-home}}
    expect: closed
  - delete: {{account: "{PRODUCTION_ACCOUNT}", region: eu-west-1, rule: sg-open,
             type: {_SG}, id: sg-away}}
    expect: closed
  - delete: {{account: "111122223333", region: eu-west-1, rule: sg-open,
             type: {_SG}, id: sg-target}}
    expect: closed
"""


def test_the_production_accounts_own_deletions_are_handled_in_every_region(
    tmp_path: Path,
) -> None:
    path = tmp_path / "production.yaml"
    path.write_text(_SCENARIO)

    report = run_local_pipeline(load_scenario(path))

    assert [(e.account_id, e.region, e.outcome) for e in report.events] == [
        (PRODUCTION_ACCOUNT, PRODUCTION_REGION, "closed"),
        (PRODUCTION_ACCOUNT, "eu-west-1", "closed"),
        ("111122223333", "eu-west-1", "closed"),
    ]
    assert all(e.message_id is not None for e in report.events)  # each reached the queue
    assert {r.key: r.status for r in report.after} == dict.fromkeys(
        ("sg-home", "sg-away", "sg-target"), CLOSED_STATUS
    )
    assert report.left_on_queue == 0
