"""`elm simulate`: examples run and meet their expectations, the report is right, bad files fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.outcomes import Outcome
from entrypoints.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))

SG_RULE = """
rules:
  - {RuleId: 1, RuleName: prod-sg-no-open-ingress, ExceptionFormat: Resource ID,
     ExceptionType: Simple}
"""


def run(*args: str) -> Any:
    # Wide enough that rich does not fold the words the assertions look for.
    return CliRunner().invoke(app, ["simulate", *args], env={"COLUMNS": "250"})


def run_json(path: Path, *extra: str) -> dict[str, Any]:
    result = run(str(path), "--json", *extra)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def item(document: dict[str, Any], partition: str, key: str) -> dict[str, Any]:
    found = [
        e
        for e in document["exceptions"]
        if e["AccountId_RuleId"] == partition and e["Exception"] == key
    ]
    assert len(found) == 1, document["exceptions"]
    return found[0]


def test_there_are_examples_to_run() -> None:
    names = {p.name for p in EXAMPLE_FILES}
    assert {"estate.yaml", "composite.yaml", "arn.yaml", "events.yaml"} <= names


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_runs_and_every_event_gets_its_expected_outcome(example: Path) -> None:
    document = run_json(example)
    assert document["events"]
    for event in document["events"]:
        assert "expected" in event, f"{example.name} {event['event']} declares no expect"
        assert event["outcome"] == event["expected"], event


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_example_prints_readable_tables(example: Path) -> None:
    result = run(str(example))
    assert result.exit_code == 0, result.output
    assert "Events, in order" in result.stdout
    assert "Exceptions after the events" in result.stdout


def test_the_estate_example_reaches_every_outcome() -> None:
    document = run_json(EXAMPLES / "estate.yaml")
    assert {e["outcome"] for e in document["events"]} == {o.value for o in Outcome}


def test_the_estate_table_shows_closes_and_leaves_the_rest_open() -> None:
    document = run_json(EXAMPLES / "estate.yaml")
    closed = item(document, "111122223333_1", "sg-0a1b2c3d4e5f60718")
    assert closed["ExceptionStatus"] == "RESOURCE_DELETED"
    assert closed["LastModifiedBy"] == "ELM_AUTOMATION"
    assert closed["ResourceType"] == "AWS::EC2::SecurityGroup"
    assert isinstance(closed["TTL"], int)
    assert [h["Action"] for h in closed["History"]] == ["closed"]
    # Same group, other account: a different exception, untouched.
    other = item(document, "444455556666_1", "sg-0a1b2c3d4e5f60718")
    assert other["ExceptionStatus"] == "ACTIVE"
    assert "History" not in other
    # Not confirmed, and failed: nothing written.
    assert item(document, "111122223333_1", "sg-0b2c3d4e5f6071829")["ExceptionStatus"] == "ACTIVE"
    assert item(document, "777788889999_1", "sg-0d4e5f6071829a3b4")["ExceptionStatus"] == "ACTIVE"
    # The four the events closed, and the one the sweep closed after its event was lost.
    assert document["summary"]["records_changed"] == 5


def test_the_text_table_shows_the_closed_status() -> None:
    result = run(str(EXAMPLES / "composite.yaml"))
    assert result.exit_code == 0, result.output
    table = result.stdout.split("Exceptions after the events", 1)[1]
    assert "RESOURCE_DELETED" in table
    assert "3/3" in table


def test_a_composite_records_each_member_once_and_closes_with_the_last() -> None:
    document = run_json(EXAMPLES / "composite.yaml")
    assert [e["outcome"] for e in document["events"]] == [
        "member-deleted",
        "duplicate",
        "member-deleted",
        "closed",
    ]
    record = item(document, "444455556666_3", "vol-0a11,vol-0b22,vol-0c33")
    assert record["DeletedMembers"] == ["vol-0a11", "vol-0b22", "vol-0c33"]
    assert [(h["Action"], h.get("Member")) for h in record["History"]] == [
        ("member-deleted", "vol-0a11"),
        ("member-deleted", "vol-0b22"),
        ("member-deleted", "vol-0c33"),
        ("closed", None),
    ]


def test_json_report_has_events_exceptions_summary_and_batch_failures() -> None:
    document = run_json(EXAMPLES / "estate.yaml")
    assert set(document) == {
        "scenario",
        "description",
        "dry_run",
        "events",
        "exceptions",
        "summary",
        "batchItemFailures",
        "sweep",
        "published",
    }
    first = document["events"][0]
    assert first["event_id"] == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    assert first["account"] == "111122223333"
    assert first["region"] == "eu-west-1"
    assert first["rule"] == "prod-sg-no-open-ingress"
    assert first["resource_type"] == "AWS::EC2::SecurityGroup"
    assert first["resource_id"] == "sg-0a1b2c3d4e5f60718"
    assert first["records"] == [
        {
            "AccountId_RuleId": "111122223333_1",
            "Exception": "sg-0a1b2c3d4e5f60718",
            "outcome": "closed",
            "members": [],
        }
    ]
    failing = [e["message_id"] for e in document["events"] if e["outcome"] in ("invalid", "failed")]
    assert failing
    assert document["batchItemFailures"] == [{"itemIdentifier": m} for m in failing]
    assert sum(document["summary"]["outcomes"].values()) == len(document["events"])


def test_dry_run_decides_the_same_outcomes_but_writes_nothing() -> None:
    wet = run_json(EXAMPLES / "estate.yaml")
    dry = run_json(EXAMPLES / "estate.yaml", "--dry-run")
    assert dry["dry_run"] is True
    outcomes = [e["outcome"] for e in dry["events"]]
    # The second delivery finds the record still open, since the first wrote nothing.
    assert outcomes[:2] == ["closed", "closed"]
    assert outcomes[2:] == [e["outcome"] for e in wet["events"]][2:]
    assert all("expected" not in e for e in dry["events"])
    assert all("History" not in e for e in dry["exceptions"])
    assert dry["summary"]["records_changed"] == 0


def test_a_short_delete_marks_the_resource_deleted_in_config(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
""",
    )
    document = run_json(scenario)
    assert document["events"][0]["outcome"] == "closed"


def test_a_short_delete_not_confirmed_leaves_config_as_declared(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-2, Region: eu-west-1}
inventory:
  resources:
    - {account: "111122223333", region: eu-west-1, type: AWS::EC2::SecurityGroup, id: sg-1}
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1, confirmed: false}
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-2, confirmed: false}
""",
    )
    events = run_json(scenario)["events"]
    assert [e["outcome"] for e in events] == ["not-confirmed", "not-confirmed"]
    assert events[0]["reason"] == "AWS Config reports the resource still exists"
    assert events[1]["reason"] == "AWS Config does not report the resource"


def test_a_deletion_keeps_the_name_config_knows_the_resource_by(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        """
rules:
  - {RuleId: 4, RuleName: rds, ExceptionFormat: Resource ARN, ExceptionType: Simple}
exceptions:
  - {AccountId: "111122223333", RuleId: 4,
     Exception: "arn:aws:rds:eu-west-1:111122223333:db:orders", Region: eu-west-1}
inventory:
  resources:
    - {account: "111122223333", region: eu-west-1, type: AWS::RDS::DBInstance, id: db-X1,
       name: orders}
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: rds,
             type: AWS::RDS::DBInstance, id: db-X1}
""",
    )
    assert run_json(scenario)["events"][0]["outcome"] == "closed"


def test_an_account_whose_config_role_is_denied_fails_only_its_events(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
  - {AccountId: "444455556666", RuleId: 1, Exception: sg-2, Region: eu-west-1}
inventory:
  errors:
    - {account: "444455556666", message: "AccessDenied: no"}
events:
  - delete: {account: "444455556666", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-2}
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
""",
    )
    document = run_json(scenario)
    assert [e["outcome"] for e in document["events"]] == ["failed", "closed"]
    assert "AccessDenied: no" in document["events"][0]["reason"]
    assert document["batchItemFailures"] == [{"itemIdentifier": "msg-1"}]


def test_events_arrive_one_minute_apart_from_the_start_time(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
settings: {start_time: "2026-05-01T08:00:00Z"}
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-2, Region: eu-west-1}
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-2}
""",
    )
    document = run_json(scenario)
    assert item(document, "111122223333_1", "sg-1")["History"][0]["At"] == "2026-05-01T08:00:00Z"
    assert item(document, "111122223333_1", "sg-2")["History"][0]["At"] == "2026-05-01T08:01:00Z"


def test_an_unmet_expectation_exits_1_and_says_which_event(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
    expect: closed
""",
    )
    result = run(str(scenario))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"elm: {scenario}: events[0] expected closed, got no-match "
        "(no exception for this account, rule and region)"
    )


VALID_EVENT = """
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
"""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            SG_RULE
            + """
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-2, Region: eu-west-1}
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-3}
"""
            + VALID_EVENT,
            "exceptions[2].Region is missing",
            id="missing-region",
        ),
        pytest.param(
            """
rules:
  - {RuleId: 1, RuleName: r, ExceptionFormat: Resource Name, ExceptionType: Simple}
"""
            + VALID_EVENT,
            "rules[0].ExceptionFormat must be 'Resource ID' or 'Resource ARN' "
            "(got 'Resource Name')",
            id="bad-format",
        ),
        pytest.param(
            SG_RULE
            + """
exceptions:
  - {AccountId: 000011112222, RuleId: 1, Exception: sg-1, Region: eu-west-1}
"""
            + VALID_EVENT,
            "exceptions[0].AccountId must be a 12-digit account id, quoted so YAML keeps its "
            "leading zeros (got 2397330)",
            id="unquoted-account-read-as-octal",
        ),
        pytest.param(
            SG_RULE
            + """
exceptions:
  - {AccountId: "111122223333", RuleId: 9, Exception: sg-1, Region: eu-west-1}
"""
            + VALID_EVENT,
            "exceptions[0].RuleId 9 is not one of the scenario's rules",
            id="unknown-rule",
        ),
        pytest.param(
            SG_RULE
            + """
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1, Regoin: x}
"""
            + VALID_EVENT,
            "exceptions[0].Regoin is not a known field",
            id="typo-field",
        ),
        pytest.param(
            SG_RULE,
            "events is missing: a scenario needs at least one event",
            id="no-events-key",
        ),
        pytest.param(
            SG_RULE
            + """
events:
  - delete: {account: 000011112222, region: eu-west-1, rule: r, type: AWS::EC2::Volume,
             id: v}
""",
            "events[0].delete.account must be quoted: YAML read it as the number 2397330",
            id="short-form-account-read-as-octal",
        ),
        pytest.param(
            SG_RULE + "events: []\n",
            "events is empty: a scenario needs at least one event",
            id="no-events",
        ),
        pytest.param(
            SG_RULE
            + """
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: r, type: AWS::EC2::Volume, id: v}
    file: events/x.json
""",
            "events[0] must have exactly one of delete, event, file (got 2)",
            id="two-event-forms",
        ),
        pytest.param(
            SG_RULE
            + """
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: r, type: AWS::EC2::Volume, id: v}
    expect: deleted
""",
            "events[0].expect must be one of closed, member-deleted",
            id="bad-expect",
        ),
        pytest.param(
            SG_RULE
            + """
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: r, type: AWS::EC2::Volume}
""",
            "events[0].delete.id is missing",
            id="short-form-without-id",
        ),
        pytest.param(
            SG_RULE + "events:\n  - file: events/nowhere.json\n",
            "events[0].file names a file that does not exist",
            id="missing-event-file",
        ),
        pytest.param(
            "rules: [\n  - broken",
            "is not valid YAML",
            id="not-yaml",
        ),
        pytest.param("- just\n- a list\n", "the file must be a mapping (got a list)", id="list"),
        pytest.param("", "the file is empty", id="empty"),
        pytest.param(
            SG_RULE
            + """
settings: {retention_days: ninety}
"""
            + VALID_EVENT,
            "settings.retention_days must be a whole number of days from 1 to 3650",
            id="bad-retention",
        ),
        pytest.param(
            SG_RULE
            + """
settings: {start_time: "2026-05-01T08:00:00"}
"""
            + VALID_EVENT,
            "settings.start_time must give its timezone",
            id="naive-start",
        ),
        pytest.param(
            """
rules:
  - {RuleId: 1, RuleName: a, ExceptionFormat: Resource ID, ExceptionType: Composite}
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: "v-1,v-2", Region: eu-west-1,
     DeletedMembers: [v-3]}
"""
            + VALID_EVENT,
            "exceptions[0].DeletedMembers names 'v-3', not a member of Exception",
            id="stray-deleted-member",
        ),
    ],
)
def test_a_bad_scenario_file_exits_2_with_one_line_naming_the_bad_path(
    tmp_path: Path, text: str, reason: str
) -> None:
    scenario = write(tmp_path, text, name="bad.yaml")
    result = run(str(scenario))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"elm: {scenario}: ")
    assert reason in lines[0]


def test_a_missing_scenario_file_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere.yaml"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"elm: {tmp_path / 'nowhere.yaml'}: no such file"


def test_exceptions_may_be_keyed_by_account_id_rule_id(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
exceptions:
  - {AccountId_RuleId: "111122223333_1", Exception: sg-1, Region: eu-west-1}
events:
  - delete: {account: "111122223333", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
    expect: closed
""",
    )
    assert run(str(scenario)).exit_code == 0


def test_a_rule_prefix_makes_other_environments_rules_ignored(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
settings: {rule_prefix: "DEV-"}
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
"""
        + VALID_EVENT,
    )
    events = run_json(scenario)["events"]
    assert [(e["outcome"], e["reason"]) for e in events] == [("ignored", "not a deletion event")]


def test_an_empty_rule_prefix_is_prod(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
settings: {rule_prefix: ""}
exceptions:
  - {AccountId: "111122223333", RuleId: 1, Exception: sg-1, Region: eu-west-1}
"""
        + VALID_EVENT,
    )
    assert [e["outcome"] for e in run_json(scenario)["events"]] == ["closed"]


def test_the_documented_scenario_runs_as_documented(tmp_path: Path) -> None:
    readme = (EXAMPLES.parent / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = readme.split("## Writing a scenario", 1)[1].split("```yaml\n", 1)[1]
    scenario = write(tmp_path, block.split("```", 1)[0])
    (tmp_path / "events").mkdir()
    forged = (EXAMPLES / "events" / "forged-account.json").read_text(encoding="utf-8")
    (tmp_path / "events" / "forged-account.json").write_text(forged, encoding="utf-8")
    result = run(str(scenario), "--json")
    assert result.exit_code == 0, result.output
    outcomes = [e["outcome"] for e in json.loads(result.stdout)["events"]]
    assert outcomes == ["closed", "rejected", "invalid"]


def test_a_malformed_short_delete_is_an_invalid_event_not_a_bad_file(tmp_path: Path) -> None:
    scenario = write(
        tmp_path,
        SG_RULE
        + """
events:
  - delete: {account: "1111", region: eu-west-1, rule: prod-sg-no-open-ingress,
             type: AWS::EC2::SecurityGroup, id: sg-1}
    expect: invalid
""",
    )
    document = run_json(scenario)
    assert document["events"][0]["reason"] == "detail.awsAccountId must be 12 digits (got '1111')"
    assert document["batchItemFailures"] == [{"itemIdentifier": "msg-1"}]


def test_the_report_lists_what_elm_published_once_per_change() -> None:
    document = run_json(EXAMPLES / "estate.yaml")
    changes = [
        (r["AccountId_RuleId"], r["Exception"], r["outcome"])
        for e in document["events"]
        if not e["dry_run"]
        for r in e["records"]
        if r["outcome"] in ("closed", "member-deleted")
    ]
    published = document["published"]
    kinds = {"closed": "Exception Closed", "member-deleted": "Exception Member Deleted"}
    from_events = [
        (p["detail"]["exceptionKey"]["AccountId_RuleId"], p["detail"]["exceptionKey"]["Exception"])
        for p in published
        if p["detail"].get("eventId")
    ]
    assert from_events == [(pk, key) for pk, key, _ in changes]
    assert [p["detail-type"] for p in published if p["detail"].get("eventId")] == [
        kinds[o] for _, _, o in changes
    ]
    assert {p["source"] for p in published} == {"elm"}
    assert published[-1]["detail-type"] == "Reconciliation Finished"
    swept = document["sweep"]["outcomes"].get("closed", 0)
    assert published[-1]["detail"]["outcomes"].get("closed", 0) == swept


def test_a_dry_run_publishes_nothing() -> None:
    document = run_json(EXAMPLES / "estate.yaml", "--dry-run")
    assert document["published"] == []


def test_the_tables_show_the_published_events() -> None:
    result = run(str(EXAMPLES / "estate.yaml"))
    assert "Published by ELM" in result.stdout
    assert "Exception Member" in result.stdout
