"""The scheduled sweep end to end on emulated AWS: the planner and the workers wired from the
environment (AwsModule, the FIFO sweep queue and the run ledger on moto), DynamoDB and STS
on moto, AWS Config answered on the wire (see emulated_aws.py). The sample estate's two
deletions are open, as if both of their events had been lost.

moto's SQS does not run Lambda's event source mapping: `lambda_turn` plays it, receiving
batches from the queue and handing them to the worker's handler.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

import pytest
from emulated_aws import (
    RULES_TABLE,
    SWEEP_RUNS_TABLE,
    EmulatedAws,
    WireSpy,
    deploy_sweep,
    lambda_turn,
    stored_item,
)
from sample_estate import ACCOUNT, BUCKET_KEY, REGION, SG_KEY, FakeLambdaContext
from typer.testing import CliRunner

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog
from adapters.aws.sweep_run import DynamoRunLedger
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.cli import app
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.composition.sweep_run_wiring import RunWiring, run_parts

SG = "AWS::EC2::SecurityGroup"
ROLE = "AWS::IAM::Role"
LIVE = [RecordKey(ACCOUNT, 1, f"sg-live{n:02d}") for n in range(30)]
UNTYPED = RecordKey(ACCOUNT, 5, "orders-api")
# IAM roles: Config's ID is the role ID (AROA…); the exceptions name the roles.
DELETED_ROLE = RecordKey(ACCOUNT, 6, f"arn:aws:iam::{ACCOUNT}:role/service/elm-audit-role")
REUSED_ROLE = RecordKey(ACCOUNT, 6, f"arn:aws:iam::{ACCOUNT}:role/elm-batch-role")

pytestmark = pytest.mark.moto


@pytest.fixture
def on_aws(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The rules with their resource types, 30 live resources and a record of unknown type
    beside the two lost deletions, two IAM roles; the sweep wired the Lambdas' way, from the
    environment. The sweep queue's URL."""
    session = emulated_aws.session
    for name, value in deploy_sweep(session).items():
        monkeypatch.setenv(name, value)
    client = AwsClients(session).dynamodb()
    rules = DynamoRuleCatalog(client, RULES_TABLE)
    for rule_id, name, kind, types in (
        (1, "prod-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, {SG}),
        (2, "prod-s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, {"AWS::S3::Bucket"}),
        (5, "prod-lambda-in-vpc", ExceptionFormat.RESOURCE_ID, set()),
        (6, "prod-iam-role-boundary", ExceptionFormat.RESOURCE_ARN, {ROLE}),
    ):
        rules.add(Rule(rule_id, name, kind, ExceptionType.SIMPLE, frozenset(types)))
    store = DynamoExceptionStore(client, os.environ["ELM_EXCEPTIONS_TABLE"])
    for key in (*LIVE, UNTYPED, DELETED_ROLE, REUSED_ROLE):
        store.add(ExceptionRecord(key, REGION))
    emulated_aws.spy.live.update(k.key for k in LIVE)
    emulated_aws.spy.named["elm-audit-role"] = [("AROAOLDAUDITROLE00001", True)]
    emulated_aws.spy.named["elm-batch-role"] = [
        ("AROAOLDBATCHROLE00001", True),
        ("AROANEWBATCHROLE00002", False),  # re-created under the same name: in use again
    ]
    sweep_run_handler.use_parts_factory(
        lambda: run_parts(
            build_container(AwsModule(Settings.from_env(os.environ), clients=AwsClients(session))),
            RunWiring.from_env(os.environ),
        )
    )
    yield os.environ["ELM_SWEEP_QUEUE_URL"]
    sweep_run_handler.use_parts_factory(None)


def test_the_scheduled_sweep_closes_lost_deletions_on_aws(
    emulated_aws: EmulatedAws, on_aws: str
) -> None:
    spy: WireSpy = emulated_aws.spy
    run = sweep_run_handler.planner({}, FakeLambdaContext())["run"]  # type: ignore[arg-type]
    assert lambda_turn(emulated_aws.session, on_aws) > 0

    for key in (SG_KEY, BUCKET_KEY, DELETED_ROLE):
        item = stored_item(key)
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert [(e["M"]["EventId"]["S"], e["M"]["Action"]["S"]) for e in item["History"]["L"]] == [
            (run, "reconciled")
        ]
    for key in (LIVE[0], REUSED_ROLE, UNTYPED):
        assert stored_item(key)["ExceptionStatus"] == {"S": "ACTIVE"}
    summary = DynamoRunLedger(
        AwsClients(emulated_aws.session).dynamodb(), SWEEP_RUNS_TABLE
    ).summary(run)
    assert summary is not None, "the last worker closed the run"
    assert summary["counts"] == {"closed": 3, "not-confirmed": 31, "unknown-type": 1}
    # The config role is assumed once for the workers' container, not once per chunk.
    assert spy.assumed == Counter({f"arn:aws:iam::{ACCOUNT}:role/Role-Config-Mgmt": 1})
    # Each call names at most 20 IDs, deleted included, each record's ID asked once (a
    # group's records may be planned by more than one Scan segment, so in more than one
    # chunk); what Config does not report by ID (the role names) is asked by name, a call
    # each.
    by_id = [r for r in spy.config_requests if "resourceIds" in r]
    assert all(0 < len(r["resourceIds"]) <= 20 for r in by_id)
    assert all(r["includeDeletedResources"] is True for r in by_id)
    asked: Counter[tuple[str, str]] = Counter(
        (r["resourceType"], i) for r in by_id for i in r["resourceIds"]
    )
    assert set(asked.values()) == {1}
    assert Counter(t for t, _ in asked) == Counter({SG: 31, ROLE: 2, "AWS::S3::Bucket": 1})
    assert {i for t, i in asked if t == "AWS::S3::Bucket"} == {"elm-audit-logs-eu"}
    by_name = sorted(
        (r["resourceType"], r["resourceName"], r["includeDeletedResources"])
        for r in spy.config_requests
        if "resourceName" in r
    )
    assert by_name == [(ROLE, "elm-audit-role", True), (ROLE, "elm-batch-role", True)]
    assert summary["configCalls"] == len(spy.config_requests)


@pytest.mark.usefixtures("emulated_aws")
def test_elm_reconcile_reads_the_configured_tables_from_the_environment() -> None:
    # An account with no exceptions: the wiring and the Scan are real, and no Config call
    # reaches moto's Config (which cannot report deleted resources).
    result = CliRunner().invoke(
        app, ["reconcile", "--account", "999999999999", "--json"], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["records_scanned"] == 2  # the sample estate's two open exceptions
    assert summary["config_calls"] == 0
