"""`elm rules list` marks rules without ResourceTypes; `elm rules fill-types` fills them in.

AWS Config's rules come from DescribeConfigRules on moto, which keeps a rule's
`Scope.ComplianceResourceTypes` as put ("Scope", AWS Config API Reference,
https://docs.aws.amazon.com/config/latest/APIReference/API_Scope.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from adapters.aws import DynamoRuleCatalog, create_tables
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.cli import app

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RULES = "Cli-Master"
SG = "AWS::EC2::SecurityGroup"


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoRuleCatalog]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ELM_EXCEPTIONS_TABLE": "Cli-ResourceExceptions",
        "ELM_RULES_TABLE": RULES,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        client: DynamoDBClient = boto3.client("dynamodb")
        create_tables(client, "Cli-ResourceExceptions", RULES)
        rules = DynamoRuleCatalog(client, RULES, cache_seconds=0)
        rules.add(Rule(1, "restricted-ssh", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
        rules.add(Rule(2, "periodic-check", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
        config = boto3.client("config", region_name="eu-west-1")
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": "restricted-ssh",
                "Scope": {"ComplianceResourceTypes": [SG]},
                "Source": {"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"},
            }
        )
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": "periodic-check",
                "Source": {"Owner": "AWS", "SourceIdentifier": "IAM_PASSWORD_POLICY"},
                "MaximumExecutionFrequency": "TwentyFour_Hours",
            }
        )
        yield rules


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_list_says_which_rules_lack_resource_types(catalog: DynamoRuleCatalog) -> None:
    result = run("rules", "list")

    assert result.exit_code == 0, result.output
    assert "2 rule(s) list no ResourceTypes (restricted-ssh, periodic-check)" in result.stdout
    assert "elm rules fill-types" in result.stdout


def test_fill_types_is_a_dry_run_first(catalog: DynamoRuleCatalog) -> None:
    result = run("rules", "fill-types", "--region", "eu-west-1", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {
            "RuleId": 1,
            "RuleName": "restricted-ssh",
            "Outcome": "filled",
            "ResourceTypes": [],
            "ConfigResourceTypes": [SG],
            "Written": False,
        },
        {
            "RuleId": 2,
            "RuleName": "periodic-check",
            "Outcome": "no-scope",
            "ResourceTypes": [],
            "ConfigResourceTypes": [],
            "Written": False,
        },
    ]
    assert catalog.get(1) == Rule(
        1, "restricted-ssh", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE
    )


def test_fill_types_apply_writes_the_types(catalog: DynamoRuleCatalog) -> None:
    result = run("rules", "fill-types", "--region", "eu-west-1", "--apply")

    assert result.exit_code == 0, result.output
    assert "1 rule(s) changed; 1 rule(s) still without ResourceTypes: periodic-check" in (
        result.stdout
    )
    catalog.invalidate()
    assert [r.name for r in catalog.find_by_resource_type(SG)] == ["restricted-ssh"]


def test_fill_types_rejects_a_bad_region(catalog: DynamoRuleCatalog) -> None:
    result = run("rules", "fill-types", "--region", "Ireland")

    assert result.exit_code == 2
    assert "--region is not a region name (got 'Ireland')" in result.output
