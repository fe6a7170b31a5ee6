"""`elm local` end to end: the example estate through templates, buses, queue, handler, sweep.

One run (the session fixture `pipeline_run`), on a moto server in this process.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from local_run import PipelineRun
from rich.console import Console

from application.sweep_report import SweepOutcome
from domain.records import ExceptionRecord, RecordKey
from entrypoints.cli.local import SIMULATED_INVENTORY, print_report, report_document
from entrypoints.local.pipeline import FILTERED

pytestmark = [pytest.mark.moto, pytest.mark.slow]

LOST = RecordKey("111122223333", 1, "sg-0c3d4e5f60718293a")
COMPOSITE = RecordKey("444455556666", 3, "vol-0a11,vol-0b22,vol-0c33")


def _by_key(records: tuple[ExceptionRecord, ...]) -> dict[RecordKey, ExceptionRecord]:
    return {r.record_key: r for r in records}


def test_each_event_ends_as_the_estate_expects(pipeline_run: PipelineRun) -> None:
    events = pipeline_run.report.events

    assert [e.event.label for e in events if not e.meets_expectation] == []
    assert {e.outcome for e in events} >= {
        "closed",
        "member-deleted",
        "not-confirmed",
        "ignored",
        "duplicate",
        "no-match",
        FILTERED,
    }


def test_outcomes_are_read_from_the_handlers_log_lines_and_metrics(
    pipeline_run: PipelineRun,
) -> None:
    report = pipeline_run.report
    handled = [e for e in report.events if e.message_id is not None]

    for event in handled:
        assert event.log is not None
        detail = json.loads(event.event.body)["detail"]
        # A configuration item change names the resource in its item (or summary).
        named = detail.get("configurationItem") or detail.get("configurationItemSummary") or detail
        assert event.log["message_id"] == event.message_id
        assert (event.log["account"], event.log["region"], event.log["resource_id"]) == (
            named["awsAccountId"],
            named["awsRegion"],
            named["resourceId"],
        )
    assert dict(report.metrics) == dict(Counter(e.outcome for e in handled))
    assert sum(report.batches) == len(handled)
    assert max(report.batches) > 1  # the queue is drained in batches, not one by one


def test_a_compliance_change_that_is_not_a_deletion_never_reaches_the_queue(
    pipeline_run: PipelineRun,
) -> None:
    filtered = [e for e in pipeline_run.report.events if e.outcome == FILTERED]
    (compliance,) = [e for e in filtered if "newEvaluationResult" in e.event.body]

    assert compliance.message_id is None
    detail = json.loads(compliance.event.body)["detail"]
    assert detail["newEvaluationResult"]["complianceType"] != "NOT_APPLICABLE"


def test_a_configuration_change_that_is_not_a_deletion_never_reaches_the_queue(
    pipeline_run: PipelineRun,
) -> None:
    filtered = [e for e in pipeline_run.report.events if e.outcome == FILTERED]
    (item,) = [e for e in filtered if "configurationItem" in e.event.body]

    assert item.message_id is None
    status = json.loads(item.event.body)["detail"]["configurationItem"]["configurationItemStatus"]
    assert status == "OK"


def test_a_managed_rule_exception_is_closed_by_the_configuration_item(
    pipeline_run: PipelineRun,
) -> None:
    (managed,) = [e for e in pipeline_run.report.events if e.resource_type == "AWS::IAM::Role"]

    assert managed.outcome == "closed"
    assert managed.rule_name == "iam-role-managed-policy-check"
    assert managed.log is not None
    assert managed.log["signal"] == "configuration-item"
    closed = [r for r in pipeline_run.report.after if r.rule_id == 5]
    assert [r.is_closed for r in closed] == [True]


def test_the_sweep_closes_the_deletion_whose_event_was_lost(pipeline_run: PipelineRun) -> None:
    report = pipeline_run.report
    after_events = _by_key(report.after_events)
    after = _by_key(report.after)

    assert report.recovered == [LOST]
    assert not after_events[LOST].is_closed
    assert after[LOST].is_closed
    assert report.unmet_sweep == []


def test_a_composite_closes_when_its_last_member_is_deleted(pipeline_run: PipelineRun) -> None:
    report = pipeline_run.report
    before = _by_key(report.before)[COMPOSITE]
    after = _by_key(report.after)[COMPOSITE]

    assert not before.is_closed
    assert after.is_closed
    assert after.deleted_members == frozenset({"vol-0a11", "vol-0b22", "vol-0c33"})


def test_a_subscribed_queue_receives_one_event_of_elms_per_change(
    pipeline_run: PipelineRun,
) -> None:
    """The deployed handler and the sweep put ELM's events on the production bus; a rule
    for ``source: elm`` delivers them to a queue, as another team's system would get them."""
    report = pipeline_run.report
    published = report.published
    # One change is one new (record, event id) pair in the records' History.
    before = {r.record_key: {h.identity for h in r.history} for r in report.before}
    changes = Counter(
        (r.record_key.partition_key, r.record_key.key)
        for r in report.after
        for _ in {h.event_id for h in r.history if h.identity not in before.get(r.record_key, ())}
    )
    assert sum(changes.values()) >= 5
    told = Counter(
        (p["detail"]["exceptionKey"]["AccountId_RuleId"], p["detail"]["exceptionKey"]["Exception"])
        for p in published
        if p["detail-type"] != "Reconciliation Finished"
    )
    assert told == changes
    assert {p["source"] for p in published} == {"elm"}
    finished = [p for p in published if p["detail-type"] == "Reconciliation Finished"]
    assert len(finished) == 1
    assert report.sweep is not None
    assert finished[0]["detail"]["sweepRun"] == report.sweep.run_id
    assert report_document(report)["published"] == [dict(p) for p in published]


def test_exceptions_nothing_confirmed_deleted_are_left_as_they_were(
    pipeline_run: PipelineRun,
) -> None:
    report = pipeline_run.report
    before = _by_key(report.before)
    still_open = [r for r in report.after if not r.is_closed]

    assert {r.record_key for r in still_open} == {
        RecordKey("111122223333", 1, "sg-0b2c3d4e5f6071829"),
        RecordKey("444455556666", 1, "sg-0a1b2c3d4e5f60718"),
    }
    for record in still_open:
        assert record == before[record.record_key]


def test_the_handler_runs_with_the_settings_the_template_gives_the_lambda(
    pipeline_run: PipelineRun,
) -> None:
    report = pipeline_run.report

    assert report.settings.allowed_accounts == report.scenario.settings.allowed_accounts
    assert report.settings.retention_days == report.scenario.settings.retention_days
    assert report.target_accounts == ("111122223333", "444455556666")


def test_the_report_names_every_outcome_the_sweep_and_the_simulated_inventory(
    pipeline_run: PipelineRun,
) -> None:
    console = Console(record=True, width=200, highlight=False)

    print_report(pipeline_run.report, 1.0, console)
    text = console.export_text()

    assert SIMULATED_INVENTORY in text
    assert "recovered by the sweep: 111122223333_1 sg-0c3d4e5f60718293a" in text
    for outcome in ("closed", "member-deleted", "not-confirmed", "ignored", FILTERED):
        assert outcome in text


def test_the_json_report_gives_each_exception_before_after_and_what_changed_it(
    pipeline_run: PipelineRun,
) -> None:
    document = json.loads(json.dumps(report_document(pipeline_run.report)))
    rows = {
        (r["after"]["AccountId_RuleId"], r["after"]["Exception"]): r for r in document["exceptions"]
    }

    lost = rows[(LOST.partition_key, LOST.key)]
    assert lost["before"]["ExceptionStatus"] == "ACTIVE"
    assert lost["after"]["ExceptionStatus"] == "RESOURCE_DELETED"
    assert lost["changed_by"] == ["sweep"]
    assert rows[(COMPOSITE.partition_key, COMPOSITE.key)]["changed_by"] == ["event 3", "event 6"]
    assert document["config_inventory"] == "simulated"
    assert document["summary"]["recovered_by_sweep"] == 1


def test_nothing_is_left_running_and_the_process_environment_is_untouched(
    pipeline_run: PipelineRun,
) -> None:
    endpoint = urlsplit(pipeline_run.report.endpoint)

    assert pipeline_run.threads_after <= pipeline_run.threads_before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((endpoint.hostname, endpoint.port), timeout=2)
    assert pipeline_run.environment_after == pipeline_run.environment_before
    assert pipeline_run.default_session_after is pipeline_run.default_session_before


def test_the_html_report_shows_the_runs_numbers_in_a_browser(
    pipeline_run: PipelineRun, tmp_path: Path
) -> None:
    from entrypoints.cli.html_report import local_page, write_report
    from tests.browser.headless import figures_in

    report = pipeline_run.report
    page = tmp_path / "local.html"
    write_report(local_page(report, 1.0), page)

    title, shown = figures_in(page)

    assert title.startswith("elm local: ")
    outcomes = {
        k.removeprefix("outcome:"): int(v) for k, v in shown.items() if k.startswith("outcome:")
    }
    assert outcomes == report.counts
    assert report.sweep is not None
    swept = {k.removeprefix("sweep:"): int(v) for k, v in shown.items() if k.startswith("sweep:")}
    assert swept == {o.value: report.sweep.count(o) for o in SweepOutcome if report.sweep.count(o)}
    changed = sum(int(v) for k, v in shown.items() if k.startswith("change:"))
    assert changed == sum(
        1 for p in report.published if p["detail-type"] != "Reconciliation Finished"
    )
