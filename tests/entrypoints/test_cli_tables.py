"""`elm exceptions ...` and `elm rules ...` against DynamoDB tables on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog, create_tables
from application.errors import TransientError
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.cli import app

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXCEPTIONS = "Cli-ResourceExceptions"
RULES = "Cli-Master"
ACCOUNT = "111122223333"
OTHER = "444455556666"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ELM_EXCEPTIONS_TABLE": EXCEPTIONS,
        "ELM_RULES_TABLE": RULES,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "ELM_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        client = boto3.client("dynamodb")
        create_tables(client, EXCEPTIONS, RULES)
        yield client


@pytest.fixture
def store(dynamodb: DynamoDBClient) -> DynamoExceptionStore:
    return DynamoExceptionStore(dynamodb, EXCEPTIONS)


@pytest.fixture
def catalog(dynamodb: DynamoDBClient) -> DynamoRuleCatalog:
    rules = DynamoRuleCatalog(dynamodb, RULES, cache_seconds=0)
    rules.add(Rule(7, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
    return rules


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def seed(store: DynamoExceptionStore) -> None:
    store.add(ExceptionRecord(RecordKey(ACCOUNT, 7, "sg-1"), region="eu-west-1"))
    store.add(
        ExceptionRecord(RecordKey(ACCOUNT, 7, "sg-2"), region="eu-west-1", status=CLOSED_STATUS)
    )
    store.add(ExceptionRecord(RecordKey(ACCOUNT, 8, "sg-3"), region="eu-west-1"))
    store.add(ExceptionRecord(RecordKey(OTHER, 7, "sg-4"), region="us-east-1"))


def keys(output: str) -> list[str]:
    return [d["Exception"] for d in json.loads(output)]


# --- elm exceptions list / show --------------------------------------------------------


def test_list_filters_by_account_rule_and_open(store: DynamoExceptionStore) -> None:
    seed(store)

    assert keys(run("exceptions", "list", "--json").stdout) == ["sg-1", "sg-2", "sg-3", "sg-4"]
    assert keys(
        run("exceptions", "list", "--account", ACCOUNT, "--rule", "7", "--json").stdout
    ) == [
        "sg-1",
        "sg-2",
    ]
    assert keys(run("exceptions", "list", "--rule", "7", "--open", "--json").stdout) == [
        "sg-1",
        "sg-4",
    ]
    assert keys(run("exceptions", "list", "--account", OTHER, "--json").stdout) == ["sg-4"]


def test_list_prints_a_table_a_person_can_read(store: DynamoExceptionStore) -> None:
    seed(store)

    result = run("exceptions", "list", "--open")

    assert result.exit_code == 0
    assert "3 exception(s)" in result.stdout
    assert "sg-1" in result.stdout
    assert "sg-2" not in result.stdout


def test_list_rejects_a_malformed_account(store: DynamoExceptionStore) -> None:
    result = run("exceptions", "list", "--account", "12345")

    assert result.exit_code == 2
    assert "--account must be a 12-digit account id" in result.stderr


def test_show_prints_the_record_in_the_table_format(store: DynamoExceptionStore) -> None:
    seed(store)

    result = run("exceptions", "show", ACCOUNT, "7", "sg-1", "--json")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "AccountId_RuleId": f"{ACCOUNT}_7",
        "Exception": "sg-1",
        "RuleId": 7,
        "Region": "eu-west-1",
        "ExceptionStatus": "ACTIVE",
    }
    assert "sg-1" in run("exceptions", "show", ACCOUNT, "7", "sg-1").stdout


def test_show_of_a_missing_record_fails_with_one_line(store: DynamoExceptionStore) -> None:
    result = run("exceptions", "show", ACCOUNT, "7", "sg-404")

    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no exception" in result.stderr


# --- elm exceptions add ----------------------------------------------------------------


def test_add_registers_a_record(store: DynamoExceptionStore, catalog: DynamoRuleCatalog) -> None:
    result = run(
        "exceptions", "add", "--account", ACCOUNT, "--rule-id", "7", "--key", "sg-9",
        "--region", "eu-west-1", "--resource-type", "AWS::EC2::SecurityGroup",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert store.get(RecordKey(ACCOUNT, 7, "sg-9")) == ExceptionRecord(
        RecordKey(ACCOUNT, 7, "sg-9"), region="eu-west-1", resource_type="AWS::EC2::SecurityGroup"
    )


def test_add_refuses_an_existing_record_without_replace(
    store: DynamoExceptionStore, catalog: DynamoRuleCatalog
) -> None:
    seed(store)
    args = ["exceptions", "add", "--account", ACCOUNT, "--rule-id", "7", "--key", "sg-2",
            "--region", "eu-west-1"]  # fmt: skip

    refused = run(*args)
    assert refused.exit_code == 1
    assert "already exists" in refused.stderr
    record = store.get(RecordKey(ACCOUNT, 7, "sg-2"))
    assert record is not None
    assert record.is_closed

    assert run(*args, "--replace").exit_code == 0
    record = store.get(RecordKey(ACCOUNT, 7, "sg-2"))
    assert record is not None
    assert not record.is_closed


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--account", "1", "--rule-id", "7", "--region", "eu-west-1"], 2, "--account"),
        (["--account", ACCOUNT, "--rule-id", "7", "--region", "Ireland"], 2, "--region"),
        (["--account", ACCOUNT, "--rule-id", "99", "--region", "eu-west-1"], 1, "rule 99 is not"),
        (
            ["--account", ACCOUNT, "--rule-id", "7", "--region", "eu-wst-1"],
            2,
            "--region eu-wst-1 is not a region AWS Config is offered in (did you mean eu-west-1?)",
        ),
        (
            ["--account", ACCOUNT, "--rule-id", "7", "--region", "eu-west-1", "--status", "ACTIV"],
            2,
            "--status ACTIV is not one of ACTIVE, EXPIRED, RESOURCE_DELETED (did you mean ACTIVE?)",
        ),
    ],
)
def test_add_rejects_bad_input_with_one_line(
    catalog: DynamoRuleCatalog,
    store: DynamoExceptionStore,
    args: list[str],
    code: int,
    message: str,
) -> None:
    result = run("exceptions", "add", "--key", "sg-9", *args)

    assert result.exit_code == code
    assert message in result.stderr
    assert list(store.scan_all()) == []


def test_add_writes_an_unknown_status_or_region_with_force(
    store: DynamoExceptionStore, catalog: DynamoRuleCatalog
) -> None:
    result = run(
        "exceptions", "add", "--account", ACCOUNT, "--rule-id", "7", "--key", "sg-9",
        "--region", "xx-test-9", "--status", "UNDER_REVIEW", "--force",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    record = store.get(RecordKey(ACCOUNT, 7, "sg-9"))
    assert record is not None
    assert (record.region, record.status) == ("xx-test-9", "UNDER_REVIEW")


def test_list_and_add_name_the_rule_the_same_way(
    store: DynamoExceptionStore, catalog: DynamoRuleCatalog
) -> None:
    added = run(
        "exceptions", "add", "--account", ACCOUNT, "--rule-id", "7", "--key", "sg-9",
        "--region", "eu-west-1",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    listed = run("exceptions", "list", "--account", ACCOUNT, "--rule-id", "7", "--json")
    assert listed.exit_code == 0, listed.output
    assert keys(listed.stdout) == ["sg-9"]


def test_show_json_prints_every_attribute_of_the_item(
    dynamodb: DynamoDBClient, store: DynamoExceptionStore
) -> None:
    dynamodb.put_item(
        TableName=EXCEPTIONS,
        Item={
            "AccountId_RuleId": {"S": f"{ACCOUNT}_7"},
            "Exception": {"S": "sg-1"},
            "RuleId": {"N": "7"},
            "Region": {"S": "eu-west-1"},
            "ExceptionStatus": {"S": "ACTIVE"},
            "Approver": {"S": "security-team"},
            "Ticket": {"N": "4217"},
            "Tags": {"SS": ["pci", "prod"]},
        },
    )

    result = run("exceptions", "show", ACCOUNT, "7", "sg-1", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "AccountId_RuleId": f"{ACCOUNT}_7",
        "Exception": "sg-1",
        "RuleId": 7,
        "Region": "eu-west-1",
        "ExceptionStatus": "ACTIVE",
        "Approver": "security-team",
        "Ticket": 4217,
        "Tags": ["pci", "prod"],
    }
    assert "security-team" in run("exceptions", "show", ACCOUNT, "7", "sg-1").stdout


# --- elm exceptions import -------------------------------------------------------------


def write_lines(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "exceptions.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def document(key: str, **extra: Any) -> dict[str, Any]:
    return {
        "AccountId_RuleId": f"{ACCOUNT}_7",
        "Exception": key,
        "RuleId": 7,
        "Region": "eu-west-1",
        "ExceptionStatus": "ACTIVE",
        **extra,
    }


def test_import_writes_every_line_with_its_other_attributes(
    tmp_path: Path, dynamodb: DynamoDBClient, store: DynamoExceptionStore
) -> None:
    path = write_lines(
        tmp_path,
        document("sg-1", Justification="approved", Score=1.5),
        "",
        document("vol-1,vol-2", DeletedMembers=["vol-1"], TTL=1780654530),
    )

    result = run("exceptions", "import", str(path))

    assert result.exit_code == 0, result.output
    assert "imported 2 record(s)" in result.stdout
    raw = dynamodb.get_item(
        TableName=EXCEPTIONS,
        Key={"AccountId_RuleId": {"S": f"{ACCOUNT}_7"}, "Exception": {"S": "sg-1"}},
    )["Item"]
    assert raw["Justification"] == {"S": "approved"}
    assert raw["Score"] == {"N": "1.5"}
    composite = store.get(RecordKey(ACCOUNT, 7, "vol-1,vol-2"))
    assert composite is not None
    assert composite.deleted_members == {"vol-1"}
    assert composite.ttl == 1780654530


def test_import_names_every_bad_line_and_writes_nothing(
    tmp_path: Path, store: DynamoExceptionStore
) -> None:
    path = write_lines(
        tmp_path,
        document("sg-1"),
        "{not json",
        document("sg-2", TTL="soon"),
        document("sg-1"),
        document("sg-3", RuleId=8),
        ["a", "list"],
    )

    result = run("exceptions", "import", str(path))

    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{path}:2: ")
    assert errors[1].startswith(f"{path}:3: TTL must be a whole number")
    assert errors[2] == f"{path}:4: same key as line 1"
    assert errors[3].startswith(f"{path}:5: ")
    assert "AccountId_RuleId" in errors[3]
    assert errors[4] == f"{path}:6: a line must be a JSON object"
    assert "5 bad line(s)" in errors[5]
    assert "nothing imported" in errors[5]
    assert list(store.scan_all()) == []


def test_import_refuses_existing_records_unless_replace(
    tmp_path: Path, store: DynamoExceptionStore
) -> None:
    seed(store)
    path = write_lines(tmp_path, document("sg-2"), document("sg-new"))

    refused = run("exceptions", "import", str(path))
    assert refused.exit_code == 2
    assert f"{path}:1: already in the table" in refused.stderr
    assert store.get(RecordKey(ACCOUNT, 7, "sg-new")) is None

    replaced = run("exceptions", "import", "--replace", str(path))
    assert replaced.exit_code == 0
    record = store.get(RecordKey(ACCOUNT, 7, "sg-2"))
    assert record is not None
    assert not record.is_closed


def test_import_reports_how_far_it_got_when_a_write_fails(
    tmp_path: Path, store: DynamoExceptionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_lines(tmp_path, document("sg-1"), document("sg-2"), document("sg-3"))
    original = DynamoExceptionStore.put_item
    calls = []

    def flaky(self: DynamoExceptionStore, item: Any) -> Any:
        calls.append(item)
        if len(calls) == 2:
            raise TransientError("put: ProvisionedThroughputExceededException")
        return original(self, item)

    monkeypatch.setattr(DynamoExceptionStore, "put_item", flaky)

    result = run("exceptions", "import", str(path))

    assert result.exit_code == 1
    assert f"{path}:2: put: ProvisionedThroughputExceededException" in result.stderr
    assert "imported 1 of 3 record(s)" in result.stderr
    assert [r.key for r in store.scan_all()] == ["sg-1"]


# --- elm rules -------------------------------------------------------------------------


def test_rules_add_then_list(dynamodb: DynamoDBClient) -> None:
    added = run(
        "rules", "add", "--rule-id", "3", "--name", "ebs-plain", "--format", "Resource ID",
        "--type", "Composite", "--resource-type", "AWS::EC2::Volume",
        "--resource-type", "AWS::EC2::Snapshot",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    listed = run("rules", "list", "--json")

    assert json.loads(listed.stdout) == [
        {
            "RuleId": 3,
            "RuleName": "ebs-plain",
            "ExceptionFormat": "Resource ID",
            "ExceptionType": "Composite",
            "ResourceTypes": ["AWS::EC2::Snapshot", "AWS::EC2::Volume"],
        }
    ]
    assert "ebs-plain" in run("rules", "list").stdout


def test_rules_list_shows_unreadable_items(dynamodb: DynamoDBClient) -> None:
    run("rules", "add", "--rule-id", "3", "--name", "ebs-plain", "--format", "Resource ID",
        "--type", "Simple")  # fmt: skip
    dynamodb.put_item(
        TableName=RULES,
        Item={"RuleId": {"N": "9"}, "ExceptionFormat": {"S": "Resource ID"}},
    )

    listed = json.loads(run("rules", "list", "--json").stdout)
    shown = run("rules", "list")

    assert [d.get("RuleName") for d in listed] == ["ebs-plain", None]
    assert listed[1]["Item"] == "(RuleId=9)"
    assert "RuleName" in listed[1]["Unreadable"]
    assert shown.exit_code == 0
    assert "(RuleId=9)" in shown.stdout


def test_rules_add_refuses_a_taken_id_or_name(catalog: DynamoRuleCatalog) -> None:
    same_id = run("rules", "add", "--rule-id", "7", "--name", "other", "--format", "Resource ID",
                  "--type", "Simple")  # fmt: skip
    same_name = run("rules", "add", "--rule-id", "8", "--name", "sg-open", "--format",
                    "Resource ARN", "--type", "Simple")  # fmt: skip

    assert same_id.exit_code == 1
    assert "already exists" in same_id.stderr
    assert same_name.exit_code == 1
    assert "already rule 7" in same_name.stderr
    assert [r.name for r in catalog.list_rules()] == ["sg-open"]


def test_rules_add_rejects_an_unknown_format(dynamodb: DynamoDBClient) -> None:
    result = run("rules", "add", "--rule-id", "3", "--name", "x", "--format", "Resource Name",
                 "--type", "Simple")  # fmt: skip

    assert result.exit_code == 2
    assert "Resource Name" in result.stderr


# --- settings and AWS failures -----------------------------------------------------------


def test_a_bad_setting_is_one_line_and_exit_2(
    dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELM_RETENTION_DAYS", "ninety")

    result = run("rules", "list")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "elm: ELM_RETENTION_DAYS must be a whole number of days (got 'ninety')"
    )


def test_a_missing_table_is_one_line_and_exit_1(
    dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELM_EXCEPTIONS_TABLE", "No-Such-Table")

    result = run("exceptions", "list")

    assert result.exit_code == 1
    assert "ResourceNotFoundException" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- elm exceptions reopen ---------------------------------------------------------------


def test_reopen_removes_the_ttl_elm_set_when_it_closed_the_record(
    store: DynamoExceptionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "ops")
    key = RecordKey(ACCOUNT, 7, "sg-5")
    store.add(ExceptionRecord(key, region="eu-west-1", status=CLOSED_STATUS, ttl=1_900_000_000))

    result = run("exceptions", "reopen", ACCOUNT, "7", "sg-5")

    assert result.exit_code == 0, result.output
    assert "re-opened as ACTIVE" in result.stdout
    after = store.get(key)
    assert after is not None
    assert (after.status, after.ttl, after.last_modified_by) == ("ACTIVE", None, "elm-cli-ops")


def test_reopen_of_an_open_record_without_ttl_changes_nothing(
    store: DynamoExceptionStore,
) -> None:
    seed(store)
    before = store.get(RecordKey(ACCOUNT, 7, "sg-1"))

    result = run("exceptions", "reopen", ACCOUNT, "7", "sg-1")

    assert result.exit_code == 0, result.output
    assert "already open" in result.stdout
    assert store.get(RecordKey(ACCOUNT, 7, "sg-1")) == before


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["sg-404"], 1, "no exception"),
        (["sg-2", "--status", CLOSED_STATUS], 2, "--status must be an open status"),
    ],
)
def test_reopen_refuses_with_one_line(
    store: DynamoExceptionStore, args: list[str], code: int, says: str
) -> None:
    seed(store)

    result = run("exceptions", "reopen", ACCOUNT, "7", *args)

    assert result.exit_code == code
    assert says in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_rules_add_works_while_an_item_without_a_readable_name_exists(
    dynamodb: DynamoDBClient,
) -> None:
    # The event path fails an unknown name while a nameless item might be it; registering
    # a new rule must not, or the table could not be worked on until the item is repaired.
    dynamodb.put_item(
        TableName=RULES, Item={"RuleId": {"N": "9"}, "ExceptionFormat": {"S": "Resource ID"}}
    )

    added = run("rules", "add", "--rule-id", "3", "--name", "ebs-plain", "--format",
                "Resource ID", "--type", "Simple")  # fmt: skip

    assert added.exit_code == 0, added.output
    assert "ebs-plain" in run("rules", "list").stdout


def test_rules_add_refuses_a_name_an_unreadable_item_holds(dynamodb: DynamoDBClient) -> None:
    dynamodb.put_item(
        TableName=RULES,
        Item={"RuleId": {"N": "9"}, "RuleName": {"S": "ebs-plain"}, "ExceptionFormat": {"S": "?"}},
    )

    added = run("rules", "add", "--rule-id", "3", "--name", "ebs-plain", "--format",
                "Resource ID", "--type", "Simple")  # fmt: skip

    assert added.exit_code == 1
    assert "unreadable item (RuleId=9)" in added.stderr
    assert added.stderr.strip().count("\n") == 0


# --- tables at 80 columns (piped output) -----------------------------------------------

LONG_ARN = "arn:aws:s3:::an-exceptionally-long-bucket-name-that-would-not-fit-in-eighty-columns"


def test_identifiers_never_wrap_in_an_80_column_table(
    store: DynamoExceptionStore, catalog: DynamoRuleCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    catalog.add(
        Rule(9, "s3-bucket-public-read-prohibited-everywhere", ExceptionFormat.RESOURCE_ARN,
             ExceptionType.SIMPLE)
    )  # fmt: skip
    store.add(
        ExceptionRecord(
            RecordKey(ACCOUNT, 9, LONG_ARN), region="eu-west-1", resource_type="AWS::S3::Bucket"
        )
    )

    listed = run("exceptions", "list")
    rules = run("rules", "list")

    assert listed.exit_code == 0, listed.output
    assert LONG_ARN in listed.stdout
    assert "AWS::S3::Bucket" in listed.stdout
    assert rules.exit_code == 0, rules.output
    assert "s3-bucket-public-read-prohibited-everywhere" in rules.stdout


# --- elm tables create -------------------------------------------------------------------


def test_tables_create_deploys_the_template_with_the_configured_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stack is infra/elm-tables.yaml; the names come from ELM_RULES_TABLE and
    ELM_EXCEPTIONS_TABLE. moto's CloudFormation creates the tables but does not show
    PITR, deletion protection or the Retain policies."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ELM_EXCEPTIONS_TABLE": "New-Exceptions",
        "ELM_RULES_TABLE": "New-Master",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        created = run("tables", "create")
        again = run("tables", "create")
        names = boto3.client("dynamodb").list_tables()["TableNames"]
        added = run("rules", "add", "--rule-id", "3", "--name", "ebs-plain", "--format",
                    "Resource ID", "--type", "Simple")  # fmt: skip

    assert created.exit_code == 0, created.output
    assert "stack elm-tables created on AWS: tables New-Master and New-Exceptions" in created.stdout
    assert sorted(names) == ["New-Exceptions", "New-Master"]
    assert again.exit_code == 1
    assert len(again.stderr.strip().splitlines()) == 1
    assert "already exists" in again.stderr
    assert added.exit_code == 0, added.output
