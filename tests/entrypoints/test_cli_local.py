"""`elm local` refuses, in one line and before starting anything, what it cannot send."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from entrypoints.cli import app, local
from entrypoints.local.moto_aws import LocalAwsError

_RULES = """
rules:
  - {RuleId: 1, RuleName: sg-open, ExceptionFormat: Resource ID, ExceptionType: Simple}
"""


def _run(tmp_path: Path, events: str) -> tuple[int, str]:
    scenario = tmp_path / "estate.yaml"
    scenario.write_text(_RULES + "events:\n" + events)
    result = CliRunner().invoke(app, ["local", "--scenario", str(scenario)])
    return result.exit_code, result.output


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["local", "--scenario", str(tmp_path / "nope.yaml")])

    assert result.exit_code == 2
    assert result.output.strip() == f"elm: {tmp_path / 'nope.yaml'}: no such file"


def test_an_event_that_is_not_json_cannot_be_put_on_a_bus(tmp_path: Path) -> None:
    code, output = _run(tmp_path, '  - event: "not json at all"\n')

    assert code == 2
    assert output.strip().splitlines() == [
        f"elm: {tmp_path / 'estate.yaml'}: events[0] is not JSON: "
        "elm local sends each event through EventBridge"
    ]


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        ("12345", "detail.awsAccountId must be the 12-digit account that sends it"),
    ],
)
def test_an_event_needs_a_target_account_to_send_it(
    tmp_path: Path, account: str, reason: str
) -> None:
    delete = (
        f'  - delete: {{account: "{account}", region: eu-west-1, rule: sg-open,'
        " type: AWS::EC2::SecurityGroup, id: sg-1}\n"
    )

    code, output = _run(tmp_path, delete)

    assert code == 2
    assert output.strip() == f"elm: {tmp_path / 'estate.yaml'}: events[0]: {reason}"


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            LocalAwsError("stack elm-tables ended ROLLBACK_COMPLETE: no reason given"),
            "elm: the local AWS could not be set up: stack elm-tables ended ROLLBACK_COMPLETE: "
            "no reason given",
        ),
        (
            ClientError({"Error": {"Code": "ValidationError", "Message": "bad"}}, "CreateStack"),
            "elm: the local AWS refused a call: An error occurred (ValidationError) when calling "
            "the CreateStack operation: bad",
        ),
    ],
)
def test_a_local_aws_that_fails_is_one_line_and_exit_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
) -> None:
    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(local, "run_local_pipeline", fail)
    delete = (
        '  - delete: {account: "111122223333", region: eu-west-1, rule: sg-open,'
        " type: AWS::EC2::SecurityGroup, id: sg-1}\n"
    )

    code, output = _run(tmp_path, delete)

    assert code == 1
    assert output.strip() == message


def test_an_event_a_bus_cannot_deliver_is_skipped_with_a_note() -> None:
    """EventBridge fills an event's envelope ``account`` and ``region`` from the bus that
    sends it; PutEvents entries carry neither ("PutEventsRequestEntry", Amazon EventBridge
    API Reference: Source, DetailType, Detail, Resources, Time, EventBusName, TraceHeader).
    So the forged-envelope event of examples/estate.yaml cannot be put on a bus; `elm local`
    skips it with the reason and runs the rest."""
    estate = Path(__file__).resolve().parents[2] / "examples" / "estate.yaml"

    result = CliRunner().invoke(app, ["local", "--scenario", str(estate), "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [(s["event"], s["number"]) for s in document["skipped"]] == [("events[10]", 11)]
    assert "envelope account 999988887777 differs" in document["skipped"][0]["reason"]
    assert "events[10]" not in [e["event"] for e in document["events"]]
    assert document["summary"]["unmet_expectations"] == 0
