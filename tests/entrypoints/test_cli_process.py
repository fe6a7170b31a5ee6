"""`elm process`: event files through the handler's use case, on the in-memory estate and,
once, on emulated AWS with the command's AwsModule wiring."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from emulated_aws import EmulatedAws, stored_item
from injector import Injector
from sample_estate import BUCKET_KEY, EVENTS, SG_KEY, Estate
from typer.testing import CliRunner

from adapters.aws import AwsClients
from domain.records import CLOSED_STATUS
from entrypoints.cli import app
from entrypoints.cli import process as process_command
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings

runner = CliRunner()
GOOD_EVENTS = ["deleted-simple-id.json", "deleted-arn-s3.json", "not-a-deletion.json"]


@pytest.fixture
def builds(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """The command wired to the in-memory estate; records the settings of each build."""
    seen: list[Settings] = []

    def container_for(settings: Settings) -> Injector:
        seen.append(settings)
        return build_container(estate.module(settings))

    monkeypatch.setattr(process_command, "container_for", container_for)
    for name in ("ELM_DRY_RUN", "ELM_RETENTION_DAYS", "ELM_ALLOWED_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    return seen


def _run(*args: str | Path) -> Any:
    return runner.invoke(app, ["process", *map(str, args)], env={"COLUMNS": "200"})


def test_eventbridge_files_are_processed_and_shown_in_a_table(
    builds: list[Settings], estate: Estate
) -> None:
    result = _run(*(EVENTS / name for name in GOOD_EVENTS))

    assert result.exit_code == 0, result.output
    assert "closed" in result.stdout
    assert "ignored" in result.stdout
    assert "deleted-simple-id.json" in result.stdout
    for key in (SG_KEY, BUCKET_KEY):
        record = estate.store.get(key)
        assert record is not None
        assert record.status == CLOSED_STATUS


def test_an_sqs_event_file_gives_one_outcome_per_record_and_exit_1_for_the_invalid_one(
    builds: list[Settings],
) -> None:
    result = _run("--json", EVENTS / "lambda/sqs-batch.json")

    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    batch = json.loads((EVENTS / "lambda/sqs-batch.json").read_text())
    assert [r["message_id"] for r in rows] == [r["messageId"] for r in batch["Records"]]
    assert [r["outcome"] for r in rows] == ["closed", "closed", "ignored", "rejected", "invalid"]
    assert rows[0]["event_id"] == json.loads(batch["Records"][0]["body"])["id"]
    assert rows[0]["file"].endswith("sqs-batch.json")
    assert rows[0]["matched_records"][0]["exception"] == SG_KEY.key


def test_receive_message_output_is_accepted(builds: list[Settings], tmp_path: Path) -> None:
    body = (EVENTS / "deleted-simple-id.json").read_text()
    dump = tmp_path / "dlq.json"
    dump.write_text(json.dumps({"Messages": [{"MessageId": "dlq-1", "Body": body}]}))

    result = _run("--json", dump)

    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["message_id"], row["outcome"]) == ("dlq-1", "closed")


def test_a_message_eventbridge_dead_lettered_is_replayed_from_a_receive_message_dump(
    builds: list[Settings], tmp_path: Path
) -> None:
    """What a rule target's DLQ holds: the event JSON as the body, and message attributes
    naming why EventBridge gave up ("Event retry policy and using dead-letter queues",
    Amazon EventBridge User Guide). No queue sent it, so a move task cannot return it."""
    body = (EVENTS / "deleted-simple-id.json").read_text()
    attributes = {
        name: {"StringValue": value, "DataType": "String"}
        for name, value in {
            "RULE_ARN": "arn:aws:events:us-east-1:111122223333:rule/elm-status-update-PROD",
            "TARGET_ARN": "arn:aws:sqs:us-east-1:111122223333:elm-status-update-PROD",
            "ERROR_CODE": "SQSKmsAccessDenied",
            "ERROR_MESSAGE": "KMS access denied",
        }.items()
    }
    dump = tmp_path / "eventbridge-dlq.json"
    dump.write_text(
        json.dumps(
            {"Messages": [{"MessageId": "eb-1", "Body": body, "MessageAttributes": attributes}]}
        )
    )

    result = _run("--json", dump)

    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["message_id"], row["outcome"]) == ("eb-1", "closed")


def test_dry_run_writes_nothing_and_reports_what_would_be_done(
    builds: list[Settings], estate: Estate
) -> None:
    result = _run("--dry-run", "--json", EVENTS / "deleted-simple-id.json")

    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["outcome"] == "closed"
    assert row["dry_run"] is True
    assert estate.store.writes == []
    assert builds[0].dry_run is True


def test_a_failed_lookup_exits_1(builds: list[Settings], estate: Estate) -> None:
    estate.inventory.failure = "sts:AssumeRole denied"

    result = _run("--json", EVENTS / "deleted-simple-id.json")

    assert result.exit_code == 1
    (row,) = json.loads(result.stdout)
    assert row["outcome"] == "failed"
    assert "AssumeRole denied" in row["reason"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("{not json", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"Records": null}', "Records must be a list"),
        ('{"Records": [{"messageId": "m-1"}]}', r"Records\[0\]\.body"),
        ('{"Messages": [{"Body": "{}"}]}', r"Messages\[0\]\.MessageId"),
    ],
)
def test_a_bad_file_is_a_one_line_error_naming_it_and_nothing_is_processed(
    builds: list[Settings],
    estate: Estate,
    tmp_path: Path,
    content: str | None,
    reason: str,
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)

    result = _run(EVENTS / "deleted-simple-id.json", bad)

    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"elm: {bad}: ")
    assert re.search(reason, line)
    assert builds == []
    assert estate.store.writes == []


def test_a_bad_setting_is_a_one_line_error_naming_the_variable(
    builds: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELM_ALLOWED_ACCOUNTS", "123")

    result = _run(EVENTS / "deleted-simple-id.json")

    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "ELM_ALLOWED_ACCOUNTS" in line
    assert builds == []


@pytest.fixture
def process_on_aws(emulated_aws: EmulatedAws, monkeypatch: pytest.MonkeyPatch) -> EmulatedAws:
    """The command's own AwsModule wiring, on the emulated AWS session."""

    def container_for(settings: Settings) -> Injector:
        return build_container(AwsModule(settings, clients=AwsClients(emulated_aws.session)))

    monkeypatch.setattr(process_command, "container_for", container_for)
    return emulated_aws


def test_a_dlq_dump_replayed_against_the_tables_closes_the_exceptions(
    process_on_aws: EmulatedAws,
) -> None:
    dry = _run("--dry-run", "--json", EVENTS / "lambda/sqs-batch.json")
    untouched = stored_item(SG_KEY)

    result = _run("--json", EVENTS / "lambda/sqs-batch.json")

    assert dry.exit_code == result.exit_code == 1
    assert [r["outcome"] for r in json.loads(dry.stdout)][:2] == ["closed", "closed"]
    assert untouched["ExceptionStatus"] == {"S": "ACTIVE"}
    assert [r["outcome"] for r in json.loads(result.stdout)][:2] == ["closed", "closed"]
    assert stored_item(SG_KEY)["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
    assert stored_item(BUCKET_KEY)["ExceptionStatus"] == {"S": "RESOURCE_DELETED"}
