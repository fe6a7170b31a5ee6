"""What the templates promise and moto does not deploy or ignores, checked on the templates.

moto ignores TTL, PITR, SSE and Architectures, and skips bus policies, queue policies,
alarms and schedules; these tests read the resolved template instead. They also hold the
two templates to each other (the role names the config role trusts) and every lint
suppression to a written reason.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from cfn_templates import (
    ENVIRONMENT_PREFIXES,
    SEND_EVENTS,
    STATUS_UPDATE,
    TABLES,
    load_template,
    resolve,
)

ENVIRONMENTS = list(ENVIRONMENT_PREFIXES)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_tables_are_kept_recoverable_and_expire_closed_records() -> None:
    template = load_template(TABLES)
    tables = _resources(template, "AWS::DynamoDB::Table")

    assert len(tables) == 2
    for logical_id, table in tables.items():
        props = table["Properties"]
        assert table["DeletionPolicy"] == "Retain", logical_id
        assert table["UpdateReplacePolicy"] == "Retain", logical_id
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["TimeToLiveSpecification"] == {"AttributeName": "TTL", "Enabled": True}
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["DeletionProtectionEnabled"] is True, logical_id
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id


def test_table_names_default_to_the_spec_names_in_both_stacks() -> None:
    for path in (TABLES, STATUS_UPDATE):
        parameters = load_template(path)["Parameters"]
        assert parameters["RulesTableName"]["Default"] == "Config-Master"
        assert parameters["ExceptionsTableName"]["Default"] == "Config-ResourceExceptions"


def test_functions_are_arm64_with_retained_logs_and_an_errors_alarm() -> None:
    template = load_template(STATUS_UPDATE)
    functions = _resources(template, "AWS::Lambda::Function")
    alarms = _resources(template, "AWS::CloudWatch::Alarm").values()

    assert set(functions) == {"ProcessorFunction", "SweepFunction"}
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"].startswith("python3.")
        log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert template["Resources"][log_group]["Properties"]["RetentionInDays"]
        assert any(
            a["Properties"]["MetricName"] == "Errors"
            and a["Properties"]["Dimensions"][0]["Value"] == {"Ref": logical_id}
            for a in alarms
        ), logical_id


def test_dead_letter_queue_depth_raises_an_alarm() -> None:
    alarms = _resources(load_template(STATUS_UPDATE), "AWS::CloudWatch::Alarm").values()

    (dlq_alarm,) = [
        a["Properties"]
        for a in alarms
        if a["Properties"]["Dimensions"][0]["Value"]
        == {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    ]
    assert dlq_alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq_alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert dlq_alarm["Threshold"] == 0


def test_default_bus_admits_put_events_from_the_organisation_only() -> None:
    template = load_template(STATUS_UPDATE)
    (policy,) = _resources(template, "AWS::Events::EventBusPolicy").values()

    statement = resolve(template, policy["Properties"]["Statement"], {"OrganizationId": "o-x"})

    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-x"}}


def test_sweep_runs_daily_by_default() -> None:
    template = load_template(STATUS_UPDATE)
    (schedule,) = _resources(template, "AWS::Scheduler::Schedule").values()

    expression = resolve(template, schedule["Properties"]["ScheduleExpression"], {})

    assert expression == "rate(1 day)"
    assert schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": ["SweepFunction", "Arn"]}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_config_role_trusts_exactly_the_production_lambda_roles(environment: str) -> None:
    production = load_template(STATUS_UPDATE)
    targets = load_template(SEND_EVENTS)
    account = "123456789012"  # the resolver's AWS::AccountId in the production stack

    lambda_roles = {
        f"arn:aws:iam::{account}:role/"
        + resolve(production, role["Properties"]["RoleName"], {"Environment": environment})
        for role in (
            production["Resources"][f["Properties"]["Role"]["Fn::GetAtt"][0]]
            for f in _resources(production, "AWS::Lambda::Function").values()
        )
    }
    trust = resolve(
        targets,
        targets["Resources"]["ConfigRole"]["Properties"]["AssumeRolePolicyDocument"],
        {
            "Environment": environment,
            "DestinationAccountId": account,
            "OrganizationId": "o-x",
        },
    )

    (statement,) = trust["Statement"]
    assert set(statement["Principal"]["AWS"]) == lambda_roles
    assert len(lambda_roles) == 2


def _config_role(parameters: dict[str, str]) -> dict[str, Any]:
    targets = load_template(SEND_EVENTS)
    settings = {"DestinationAccountId": "111122223333", "OrganizationId": "o-x", **parameters}
    resolved: dict[str, Any] = resolve(targets, targets["Resources"]["ConfigRole"], settings)
    return resolved


@pytest.mark.parametrize(
    "operator_role",
    ["ElmOperator", "aws-reserved/sso.amazonaws.com/AWSReservedSSO_ElmOperator_0123abcd"],
)
def test_an_operator_role_is_trusted_beside_the_lambda_roles_and_nothing_else_changes(
    operator_role: str,
) -> None:
    default = _config_role({})
    with_operator = _config_role({"OperatorRoleName": operator_role})

    (statement,) = with_operator["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    (default_statement,) = default["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"]["AWS"] == [
        *default_statement["Principal"]["AWS"],
        f"arn:aws:iam::111122223333:role/{operator_role}",
    ]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-x"}}
    # Apart from that one principal, the role is the default one: same grants, same name.
    statement["Principal"]["AWS"].pop()
    assert with_operator == default


def test_config_role_trusts_only_the_lambda_roles_when_no_operator_role_is_given() -> None:
    (statement,) = _config_role({})["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert statement["Principal"]["AWS"] == [
        "arn:aws:iam::111122223333:role/elm-status-update-PROD",
        "arn:aws:iam::111122223333:role/elm-sweep-PROD",
    ]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("ElmOperator", True),
        ("aws-reserved/sso.amazonaws.com/AWSReservedSSO_ElmOperator_0123abcd", True),
        ("arn:aws:iam::111122223333:role/ElmOperator", False),
        ("*", False),
        ("Elm Operator", False),
        ("/ElmOperator", False),
    ],
)
def test_operator_role_name_accepts_a_role_name_or_path_only(value: str, accepted: bool) -> None:
    spec = load_template(SEND_EVENTS)["Parameters"]["OperatorRoleName"]

    # CloudFormation matches AllowedPattern against the whole value.
    assert (re.fullmatch(spec["AllowedPattern"], value) is not None) is accepted
    assert spec["Default"] == ""


def test_config_role_name_is_the_one_the_lambdas_assume() -> None:
    production = load_template(STATUS_UPDATE)
    targets = load_template(SEND_EVENTS)

    assert (
        production["Parameters"]["ConfigRoleName"]["Default"]
        == targets["Parameters"]["ConfigRoleName"]["Default"]
        == "Role-Config-Mgmt"
    )


_CFN_LINT_IGNORE = re.compile(r"^\s*ignore_checks:\s*\[(?P<ids>[^\]]*)\]", re.MULTILINE)


@pytest.mark.parametrize("path", [TABLES, STATUS_UPDATE, SEND_EVENTS], ids=lambda p: p.name)
def test_every_suppression_carries_a_written_reason(path: Any) -> None:
    text = path.read_text()
    lines = text.splitlines()

    # cfn-lint: each ignored rule is explained in a comment just above its ignore_checks.
    for match in _CFN_LINT_IGNORE.finditer(text):
        line_no = text[: match.start()].count("\n")
        comments = []
        for line in reversed(lines[:line_no]):
            if not line.strip().startswith("#"):
                break
            comments.append(line)
        for rule_id in (i.strip() for i in match["ids"].split(",")):
            assert any(f"# {rule_id}:" in c for c in comments), f"{path.name}: {rule_id}"

    # checkov: each skip has a comment of its own.
    template = load_template(path)
    for logical_id, resource in template["Resources"].items():
        skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            assert len(skip.get("comment", "").split()) >= 8, f"{logical_id}: {skip['id']}"
