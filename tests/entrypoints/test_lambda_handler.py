"""The Lambda handler: SQS batch in, failed records out; one log line and one metric per outcome.

Wired to the in-memory estate of the sample events (tests/events/lambda/sqs-batch.json carries the
five samples as SQS records), through the handler's own container hook.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from sample_estate import (
    ACCOUNT,
    BUCKET_KEY,
    REGION,
    SG_KEY,
    FakeLambdaContext,
    LogCapture,
    Wiring,
    load_event,
)

from application.handle_change import HandleComplianceChange
from domain.records import CLOSED_STATUS
from entrypoints import lambda_handler
from entrypoints.aws_lambda.sqs_events import NotAnSqsBatch
from entrypoints.composition.settings import Settings, SettingsError

MALFORMED_MESSAGE = "e9b0d6a3-4c2f-4e8b-a1d7-3f5c9e2b8a64"
OUTCOMES_IN_ORDER = ["closed", "closed", "ignored", "rejected", "invalid"]


def _batch(*, without: tuple[int, ...] = ()) -> dict[str, Any]:
    event: dict[str, Any] = load_event("lambda/sqs-batch.json")
    event["Records"] = [r for i, r in enumerate(event["Records"]) if i not in without]
    return event


def _emf_counts(stdout: str) -> Counter[str]:
    """Sum every metric of the CloudWatch EMF lines Powertools printed."""
    counts: Counter[str] = Counter()
    for line in stdout.splitlines():
        blob = json.loads(line)
        directives = blob["_aws"]["CloudWatchMetrics"]
        for directive in directives:
            assert directive["Namespace"] == "ELM"
            for metric in directive["Metrics"]:
                assert metric["Unit"] == "Count"
                value = blob[metric["Name"]]
                counts[metric["Name"]] += sum(value) if isinstance(value, list) else value
    return counts


def test_a_batch_with_one_bad_record_fails_exactly_that_record(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    response = lambda_handler.handler(_batch(), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": MALFORMED_MESSAGE}]}
    for key in (SG_KEY, BUCKET_KEY):
        record = wiring.estate.store.get(key)
        assert record is not None
        assert record.status == CLOSED_STATUS


def test_a_batch_of_good_records_fails_none(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    assert lambda_handler.handler(_batch(without=(4,)), lambda_context) == {"batchItemFailures": []}


def test_a_batch_whose_every_record_fails_still_answers_with_the_failures(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    wiring.estate.inventory.failure = "ThrottlingException"

    response = lambda_handler.handler(_batch(without=(2, 3, 4)), lambda_context)

    first, second = (r["messageId"] for r in _batch()["Records"][:2])
    assert response == {
        "batchItemFailures": [{"itemIdentifier": first}, {"itemIdentifier": second}]
    }


def test_a_transient_error_fails_only_the_records_that_needed_aws_config(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    wiring.estate.inventory.failure = "config:ListDiscoveredResources throttled"

    response = lambda_handler.handler(_batch(), lambda_context)

    records = _batch()["Records"]
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed == {records[0]["messageId"], records[1]["messageId"], MALFORMED_MESSAGE}
    lines = captured_log.lines()
    assert [line["outcome"] for line in lines] == [
        "failed",
        "failed",
        "ignored",
        "rejected",
        "invalid",
    ]
    assert "throttled" in lines[0]["reason"]


def test_each_outcome_is_one_json_log_line_with_the_event_fields(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    lambda_handler.handler(_batch(), lambda_context)

    lines = captured_log.lines()
    assert [line["outcome"] for line in lines] == OUTCOMES_IN_ORDER
    assert [line["level"] for line in lines] == ["INFO", "INFO", "INFO", "WARNING", "ERROR"]
    records = _batch()["Records"]
    for line, record in zip(lines, records, strict=True):
        event_id = json.loads(record["body"])["id"]
        assert line["service"] == "elm"
        assert line["message_id"] == record["messageId"]
        assert line["event_id"] == event_id
        assert line["correlation_id"] == event_id
        assert line["function_request_id"] == lambda_context.aws_request_id
    closed = lines[0]
    assert closed["account"] == ACCOUNT
    assert closed["region"] == REGION
    assert closed["rule"] == "prod-sg-no-open-ingress"
    assert closed["resource_type"] == "AWS::EC2::SecurityGroup"
    assert closed["resource_id"] == SG_KEY.key
    assert closed["dry_run"] is False
    assert closed["matched_records"] == [
        {
            "partition_key": SG_KEY.partition_key,
            "exception": SG_KEY.key,
            "outcome": "closed",
            "members": [],
        }
    ]
    assert "disagrees" in lines[3]["reason"]
    assert "resourceId" in lines[4]["reason"]


def test_a_dry_run_writes_nothing_and_says_so(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    wiring.settings = Settings(dry_run=True)

    lambda_handler.handler(_batch(without=(1, 2, 3, 4)), lambda_context)

    (line,) = captured_log.lines()
    assert line["outcome"] == "closed"
    assert line["dry_run"] is True
    assert "would be" in line["reason"]
    assert wiring.estate.store.writes == []


def test_every_outcome_is_counted_as_a_metric(
    wiring: Wiring,
    captured_log: LogCapture,
    lambda_context: FakeLambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()

    lambda_handler.handler(_batch(), lambda_context)
    lambda_handler.handler(_batch(without=(0, 1, 4)), lambda_context)

    assert _emf_counts(capsys.readouterr().out) == Counter(
        {"closed": 2, "ignored": 2, "rejected": 2, "invalid": 1}
    )


def test_the_container_is_built_once_across_invocations(
    wiring: Wiring, captured_log: LogCapture, lambda_context: FakeLambdaContext
) -> None:
    for _ in range(3):
        lambda_handler.handler(_batch(), lambda_context)

    assert wiring.builds == 1


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({}, "no Records"),
        ({"Records": None}, "Records must be a list"),
        ([], "must be a JSON object"),
        ({"Records": [{"body": "{}"}]}, r"Records\[0\].messageId"),
        ({"Records": [{"messageId": "m-1"}]}, r"Records\[0\].body"),
    ],
)
def test_an_event_that_is_not_an_sqs_batch_fails_the_invocation(
    wiring: Wiring,
    captured_log: LogCapture,
    lambda_context: FakeLambdaContext,
    event: Any,
    reason: str,
) -> None:
    with pytest.raises(NotAnSqsBatch, match=reason):
        lambda_handler.handler(event, lambda_context)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_a_bad_setting_fails_the_invocation_naming_the_variable(
    captured_log: LogCapture,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lambda_handler.use_container_factory(None)
    monkeypatch.setenv("ELM_RETENTION_DAYS", "ninety")

    with pytest.raises(SettingsError, match="ELM_RETENTION_DAYS"):
        lambda_handler.handler(_batch(), lambda_context)

    assert "ELM_RETENTION_DAYS" in captured_log.lines()[-1]["exception"]


def test_an_unexpected_error_fails_its_record_with_a_log_line_and_a_metric(
    wiring: Wiring,
    captured_log: LogCapture,
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(self: HandleComplianceChange, body: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(HandleComplianceChange, "execute", broken)
    capsys.readouterr()

    response = lambda_handler.handler(_batch(without=(1, 2, 3, 4)), lambda_context)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": _batch()["Records"][0]["messageId"]}]
    }
    (line,) = captured_log.lines()
    assert line["outcome"] == "failed"
    assert line["level"] == "ERROR"
    assert "KeyError" in line["exception"]
    assert _emf_counts(capsys.readouterr().out) == Counter({"failed": 1})
