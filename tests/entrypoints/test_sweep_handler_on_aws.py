"""The sweep Lambda end to end on emulated AWS: AwsModule from the environment, DynamoDB and
STS on moto, AWS Config answered on the wire (see emulated_aws.py). The sample estate's two
deletions are open, as if both of their events had been lost."""

from __future__ import annotations

import io
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator

import pytest
from attrs import define
from emulated_aws import RULES_TABLE, EmulatedAws, WireSpy, stored_item
from sample_estate import ACCOUNT, BUCKET_KEY, REGION, SG_KEY
from typer.testing import CliRunner

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints import sweep_handler
from entrypoints.cli import app
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings

SG = "AWS::EC2::SecurityGroup"
ROLE = "AWS::IAM::Role"
LIVE = [RecordKey(ACCOUNT, 1, f"sg-live{n:02d}") for n in range(30)]
UNTYPED = RecordKey(ACCOUNT, 5, "orders-api")
# IAM roles: Config's ID is the role ID (AROA…); the exceptions name the roles.
DELETED_ROLE = RecordKey(ACCOUNT, 6, f"arn:aws:iam::{ACCOUNT}:role/service/elm-audit-role")
REUSED_ROLE = RecordKey(ACCOUNT, 6, f"arn:aws:iam::{ACCOUNT}:role/elm-batch-role")


@define
class ScheduledContext:
    """The Lambda context attributes the sweep handler and its logger read."""

    function_name: str = "elm-sweep-PROD"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:999900001111:function:elm-sweep-PROD"
    aws_request_id: str = "0b6f1c9e-2d4a-4e7b-9c3d-5a8f7e6d1c2b"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.fixture
def on_aws(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[WireSpy]:
    """The rules with their resource types, 30 live groups and a record of unknown type beside
    the two lost deletions; the sweep wired the Lambda's way, from the environment."""
    monkeypatch.setenv("ELM_SWEEP_CALLS_PER_SECOND", "100")  # a test need not wait on pacing
    client = AwsClients(emulated_aws.session).dynamodb()
    rules = DynamoRuleCatalog(client, RULES_TABLE)
    rules.add(
        Rule(
            1,
            "prod-sg-no-open-ingress",
            ExceptionFormat.RESOURCE_ID,
            ExceptionType.SIMPLE,
            frozenset({SG}),
        )
    )
    rules.add(
        Rule(
            2,
            "prod-s3-bucket-logging",
            ExceptionFormat.RESOURCE_ARN,
            ExceptionType.SIMPLE,
            frozenset({"AWS::S3::Bucket"}),
        )
    )
    rules.add(Rule(5, "prod-lambda-in-vpc", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
    rules.add(
        Rule(
            6,
            "prod-iam-role-boundary",
            ExceptionFormat.RESOURCE_ARN,
            ExceptionType.SIMPLE,
            frozenset({ROLE}),
        )
    )
    store = DynamoExceptionStore(client, os.environ["ELM_EXCEPTIONS_TABLE"])
    for key in (*LIVE, UNTYPED, DELETED_ROLE, REUSED_ROLE):
        store.add(ExceptionRecord(key, REGION))
    emulated_aws.spy.live.update(k.key for k in LIVE)
    emulated_aws.spy.named["elm-audit-role"] = [("AROAOLDAUDITROLE00001", True)]
    emulated_aws.spy.named["elm-batch-role"] = [
        ("AROAOLDBATCHROLE00001", True),
        ("AROANEWBATCHROLE00002", False),  # re-created under the same name: in use again
    ]
    sweep_handler.use_container_factory(
        lambda: build_container(
            AwsModule(Settings.from_env(os.environ), clients=AwsClients(emulated_aws.session))
        )
    )
    yield emulated_aws.spy
    sweep_handler.use_container_factory(None)


@pytest.fixture
def quiet_log() -> Iterator[None]:
    """The sweep's log line goes nowhere (other tests check it)."""
    handler = sweep_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(io.StringIO())
    yield
    handler.setStream(previous)


@pytest.mark.moto
@pytest.mark.usefixtures("quiet_log")
def test_the_scheduled_sweep_closes_lost_deletions_on_aws(on_aws: WireSpy) -> None:
    summary = sweep_handler.handler({}, ScheduledContext())

    for key in (SG_KEY, BUCKET_KEY, DELETED_ROLE):
        item = stored_item(key)
        assert item["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
        assert [(e["M"]["EventId"]["S"], e["M"]["Action"]["S"]) for e in item["History"]["L"]] == [
            ("reconcile-0b6f1c9e-2d4a-4e7b-9c3d-5a8f7e6d1c2b", "reconciled")
        ]
    for key in (LIVE[0], REUSED_ROLE):
        assert stored_item(key)["ExceptionStatus"] == {"S": "ACTIVE"}
    assert summary["outcomes"] == {"closed": 3, "not-confirmed": 31, "unknown-type": 1}
    # The role is assumed once for the run; each call names at most 20 IDs, deleted included;
    # what Config does not report by ID (the role names) is asked by name, a call each.
    assert on_aws.assumed == Counter({f"arn:aws:iam::{ACCOUNT}:role/Role-Config-Mgmt": 1})
    by_id = sorted(
        (r["resourceType"], len(r["resourceIds"]), r["includeDeletedResources"])
        for r in on_aws.config_requests
        if "resourceIds" in r
    )
    assert by_id == [(SG, 11, True), (SG, 20, True), (ROLE, 2, True), ("AWS::S3::Bucket", 1, True)]
    by_name = sorted(
        (r["resourceType"], r["resourceName"], r["includeDeletedResources"])
        for r in on_aws.config_requests
        if "resourceName" in r
    )
    assert by_name == [(ROLE, "elm-audit-role", True), (ROLE, "elm-batch-role", True)]
    assert summary["config_calls"] == 6
    assert summary["config_calls_by_name"] == 2


@pytest.mark.moto
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
