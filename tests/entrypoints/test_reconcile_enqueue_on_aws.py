"""`elm reconcile --enqueue` on emulated AWS: the run starts on the deployed FIFO sweep queue,
the deployed workers (the Lambda handler, wired from the environment) do it, and the
command follows the run's ledger until the last worker wrote the summary.

moto's SQS does not run Lambda's event source mapping: the workers' turn is played between
two reads of the ledger, receiving from the queue and invoking the handler as Lambda would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from emulated_aws import (
    EXCEPTIONS_TABLE,
    RULES_TABLE,
    SWEEP_RUNS_TABLE,
    EmulatedAws,
    deploy_sweep,
    lambda_turn,
)
from sample_estate import BUCKET_KEY, SG_KEY
from typer.testing import CliRunner

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog
from adapters.aws.sweep_run import DynamoRunLedger
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.aws_lambda import sweep_run_handler
from entrypoints.cli import app, sweep_follow
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.composition.sweep_run_wiring import RunWiring, run_parts

pytestmark = pytest.mark.moto


@pytest.fixture
def queue_url(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The deployed parts: a FIFO sweep queue, the run ledger, typed rules, the settings."""
    session = emulated_aws.session
    deployed = deploy_sweep(session)
    url = deployed["ELM_SWEEP_QUEUE_URL"]
    rules = DynamoRuleCatalog(AwsClients(session).dynamodb(), RULES_TABLE)
    for rule_id, name, kind, rtype in (
        (1, "prod-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, "AWS::EC2::SecurityGroup"),
        (2, "prod-s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, "AWS::S3::Bucket"),
    ):
        rules.add(Rule(rule_id, name, kind, ExceptionType.SIMPLE, frozenset({rtype})))
    for name, value in {**deployed, "COLUMNS": "200"}.items():
        monkeypatch.setenv(name, value)
    sweep_run_handler.use_parts_factory(
        lambda: run_parts(
            build_container(AwsModule(Settings.from_env(os.environ), clients=AwsClients(session))),
            RunWiring.from_env(os.environ),
        )
    )
    yield url
    sweep_run_handler.use_parts_factory(None)


def test_enqueue_starts_a_run_on_the_queue_and_returns_its_id(
    emulated_aws: EmulatedAws, queue_url: str
) -> None:
    result = CliRunner().invoke(app, ["reconcile", "--enqueue", "--no-follow", "--json"])

    assert result.exit_code == 0, result.output
    started = json.loads(result.stdout)
    assert started["run"].startswith("sweep-")
    assert started["segments"] == 4
    ledger = DynamoRunLedger(AwsClients(emulated_aws.session).dynamodb(), SWEEP_RUNS_TABLE)
    totals = ledger.totals(started["run"])
    assert totals is not None
    assert (totals.planned, totals.finished) == (4, 0)
    attributes = emulated_aws.session.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "4"


def test_enqueue_follows_the_run_until_the_deployed_workers_finish_it(
    emulated_aws: EmulatedAws, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns: list[int] = []
    monkeypatch.setattr(
        sweep_follow, "pause", lambda _s: turns.append(lambda_turn(emulated_aws.session, queue_url))
    )

    result = CliRunner().invoke(app, ["reconcile", "--enqueue", "--json"])

    assert result.exit_code == 0, result.output
    # The workers' metric lines (EMF) share stdout here; the command's JSON comes last.
    followed = json.loads(result.stdout[result.stdout.index('{\n  "run"') :])
    assert followed["finished"] is True
    assert followed["done"] == followed["planned"] > 4  # the segments and their chunks
    assert followed["counts"] == {"closed": 2}
    assert turns
    assert turns[0] > 0
    store = DynamoExceptionStore(AwsClients(emulated_aws.session).dynamodb(), EXCEPTIONS_TABLE)
    for key in (SG_KEY, BUCKET_KEY):
        record = store.get(key)
        assert record is not None
        assert record.is_closed
        assert record.history[-1].event_id == followed["run"]


def test_following_stops_after_its_time_and_says_the_run_goes_on(queue_url: str) -> None:
    result = CliRunner().invoke(
        app, ["reconcile", "--enqueue", "--follow-minutes", "0.0001"], env={"TTY_COMPATIBLE": "0"}
    )
    assert result.exit_code == 1
    assert "did not finish within" in result.stdout
    assert "it goes on" in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--resume-from", "1/eu-west-1/AWS::S3::Bucket"], "--resume-from only apply"),
        (["--budget-seconds", "5"], "--budget-seconds only apply"),
        (["--follow-minutes", "0"], "--follow-minutes must be positive"),
    ],
)
def test_enqueue_refuses_what_only_a_run_in_this_process_takes(
    queue_url: str, args: list[str], named: str
) -> None:
    result = CliRunner().invoke(app, ["reconcile", "--enqueue", *args])
    assert result.exit_code == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("emulated_aws")
def test_enqueue_without_a_queue_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELM_SWEEP_QUEUE_URL", raising=False)
    result = CliRunner().invoke(app, ["reconcile", "--enqueue"])
    assert result.exit_code == 2
    assert "ELM_SWEEP_QUEUE_URL must be set" in result.stderr
