"""What the templates promise and moto does not deploy or ignores, checked on the templates.

moto ignores TTL, PITR, SSE and Architectures, and skips bus policies, queue policies,
alarms and schedules; these tests read the resolved template instead. They also hold the
two templates to each other (the role names the config role trusts) and every lint
suppression to a written reason.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest
from cfn_templates import (
    ENVIRONMENT_PREFIXES,
    SEND_EVENTS,
    STATUS_UPDATE,
    SWEEP_REFS,
    TABLES,
    condition,
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

    assert set(functions) == {"ProcessorFunction", "SweepFunction", "SweepWorkerFunction"}
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
        and a["Properties"]["MetricName"] != "ApproximateAgeOfOldestMessage"
    ]
    assert dlq_alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq_alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert dlq_alarm["Threshold"] == 0


FOURTEEN_DAYS = 14 * 24 * 3600


def _queue_age_alarm(template: dict[str, Any], queue: str) -> dict[str, Any]:
    (alarm,) = [
        a["Properties"]
        for a in _resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "ApproximateAgeOfOldestMessage"
        and a["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    return alarm


def test_nothing_expires_on_the_queues_before_an_alarm_has_said_so() -> None:
    """SQS deletes a message when its retention period ends; it is not dead-lettered
    ("CreateQueue", SQS API Reference, MessageRetentionPeriod). A message moved to a standard
    queue's DLQ keeps its first enqueue time, so the DLQ must keep messages at least as long
    as the queue ("Setting-up dead-letter queue retention in Amazon SQS"). moto never expires
    a message, so the template is where this is shown."""
    template = load_template(STATUS_UPDATE)
    queues = template["Resources"]
    queue = queues["EventsQueue"]["Properties"]
    dlq = queues["DeadLetterQueue"]["Properties"]

    assert queue["MessageRetentionPeriod"] == FOURTEEN_DAYS
    assert dlq["MessageRetentionPeriod"] >= queue["MessageRetentionPeriod"]
    for logical_id, retention in (("EventsQueue", queue), ("DeadLetterQueue", dlq)):
        alarm = _queue_age_alarm(template, logical_id)
        threshold_parameter = alarm["Threshold"]["Ref"]
        spec = template["Parameters"][threshold_parameter]
        # Whatever value the parameter takes, the alarm fires days before SQS deletes.
        assert spec["MaxValue"] <= retention["MessageRetentionPeriod"] - 2 * 24 * 3600
        assert spec["MinValue"] <= spec["Default"] <= spec["MaxValue"]
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Statistic"] == "Maximum"
        assert alarm["TreatMissingData"] == "notBreaching"
        actions = resolve(
            template,
            alarm["AlarmActions"],
            {"AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:t"},
        )
        assert actions == ["arn:aws:sns:us-east-1:123456789012:t"]
    # A failing record reaches the DLQ after 5 receives of 360 s: the event queue's alarm
    # must not fire for that, but for a backlog nobody consumes.
    events_alarm = _queue_age_alarm(template, "EventsQueue")
    spec = template["Parameters"][events_alarm["Threshold"]["Ref"]]
    redrive = queue["RedrivePolicy"]
    assert spec["MinValue"] > redrive["maxReceiveCount"] * queue["VisibilityTimeout"]


def _arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated parts matched on its own, * and ?."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        fnmatch.fnmatchcase(a, p) for p, a in zip(pattern_parts, arn_parts, strict=True)
    )


def _bus_statement(environment: str = "PROD") -> dict[str, Any]:
    template = load_template(STATUS_UPDATE)
    (policy,) = _resources(template, "AWS::Events::EventBusPolicy").values()
    statement: dict[str, Any] = resolve(
        template,
        policy["Properties"]["Statement"],
        {"OrganizationId": "o-x", "Environment": environment},
    )
    return statement


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_default_bus_admits_only_elm_forwarding_rules(environment: str) -> None:
    """aws:SourceArn is the ARN of the rule that sends the event ("Using IAM policy
    conditions in Amazon EventBridge"; "Permissions for event buses in Amazon EventBridge",
    example "Send events only from a specific rule"): a PutEvents call, which has none, is
    not admitted, nor an event from another rule. moto stores bus policies and never
    enforces them, so this is shown on the template."""
    targets = load_template(SEND_EVENTS)
    statement = _bus_statement(environment)
    (source_arn,) = statement["Condition"]["ArnLike"]["aws:SourceArn"].split()
    forwarding_rules = {
        resolve(targets, rule["Properties"]["Name"], {"Environment": environment})
        for rule in _resources(targets, "AWS::Events::Rule").values()
    }

    assert forwarding_rules
    for rule_name in forwarding_rules:
        for account, region in (("111122223333", "eu-west-1"), ("123456789012", "ap-south-2")):
            assert _arn_like(source_arn, f"arn:aws:events:{region}:{account}:rule/{rule_name}")
    for other in (
        "arn:aws:events:eu-west-1:111122223333:rule/someone-elses-rule",
        "arn:aws:events:eu-west-1:111122223333:rule/custom-bus/elm-forward-deletions-PROD",
        "arn:aws:sqs:eu-west-1:111122223333:rule/elm-forward-deletions-PROD",
    ):
        assert not _arn_like(source_arn, other), other
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": "o-x"}


def test_default_bus_admits_the_aws_config_events_elm_handles() -> None:
    """events:source and events:detail-type are PutEvents condition keys, but AWS does not
    document them for an event another account's rule forwards: they are written so that
    they narrow what is evaluated and cannot refuse ELM's forwarding when absent
    (ForAllValues over the multi-valued source, IfExists on the detail-type)."""
    targets = load_template(SEND_EVENTS)
    statement = _bus_statement()
    sources = statement["Condition"]["ForAllValues:StringEquals"]["events:source"]
    detail_types = statement["Condition"]["StringEqualsIfExists"]["events:detail-type"]
    forwarded = [
        resolve(targets, rule["Properties"]["EventPattern"], {})
        for rule in _resources(targets, "AWS::Events::Rule").values()
    ]

    assert sources == ["aws.config"]
    assert set(detail_types) == {
        "Config Rules Compliance Change",
        "Config Configuration Item Change",
    }
    for pattern in forwarded:
        assert set(pattern["source"]) <= set(sources)
        assert set(pattern["detail-type"]) <= set(detail_types)
    # Nothing else would restrict the condition keys to presence-only.
    assert set(statement["Condition"]) == {
        "StringEquals",
        "ArnLike",
        "ForAllValues:StringEquals",
        "StringEqualsIfExists",
    }


_PRODUCTION = {"AWS::AccountId": "999988887777", "AWS::Region": "us-east-1"}
_SEND_EVENTS_PARAMETERS = {
    "DestinationAccountId": "999988887777",
    "DestinationRegion": "us-east-1",
    "OrganizationId": "o-x",
}


@pytest.mark.parametrize(
    ("account", "region", "forwards"),
    [
        ("999988887777", "us-east-1", False),  # the production bus itself: no loop
        ("999988887777", "eu-west-1", True),  # the production account's other regions
        ("111122223333", "us-east-1", True),
        ("111122223333", "eu-west-1", True),
    ],
)
def test_the_production_account_forwards_from_every_region_but_the_production_bus(
    account: str, region: str, forwards: bool
) -> None:
    targets = load_template(SEND_EVENTS)
    where = {"AWS::AccountId": account, "AWS::Region": region}
    forwarding = {
        logical_id
        for logical_id, resource in targets["Resources"].items()
        if resource["Type"] in ("AWS::Events::Rule", "AWS::IAM::Role")
        and logical_id != "ConfigRole"
    }

    assert forwarding
    for logical_id in forwarding:
        name = targets["Resources"][logical_id].get("Condition")
        assert name is not None, logical_id
        assert condition(targets, name, _SEND_EVENTS_PARAMETERS, where) is forwards, logical_id


@pytest.mark.parametrize("config_role_region", ["us-east-1", "eu-west-1"])
def test_every_stack_instance_creates_at_least_one_resource(config_role_region: str) -> None:
    """CloudFormation refuses a stack whose conditions leave it no resource: the production
    account's production region forwards nothing, and may not hold the config role."""
    targets = load_template(SEND_EVENTS)
    parameters = {**_SEND_EVENTS_PARAMETERS, "ConfigRoleRegion": config_role_region}

    for account in ("999988887777", "111122223333"):
        for region in ("us-east-1", "eu-west-1"):
            where = {"AWS::AccountId": account, "AWS::Region": region}
            created = [
                logical_id
                for logical_id, resource in targets["Resources"].items()
                if "Condition" not in resource
                or condition(targets, resource["Condition"], parameters, where)
            ]
            assert created, (account, region)


def test_config_role_exists_once_in_the_production_account_too() -> None:
    targets = load_template(SEND_EVENTS)
    parameters = {**_SEND_EVENTS_PARAMETERS, "ConfigRoleRegion": "us-east-1"}
    role_condition = targets["Resources"]["ConfigRole"]["Condition"]

    assert [
        region
        for region in ("us-east-1", "eu-west-1", "eu-central-1")
        if condition(targets, role_condition, parameters, {**_PRODUCTION, "AWS::Region": region})
    ] == ["us-east-1"]


def test_default_bus_admits_put_events_from_the_organisation_only() -> None:
    template = load_template(STATUS_UPDATE)
    (policy,) = _resources(template, "AWS::Events::EventBusPolicy").values()

    statement = resolve(template, policy["Properties"]["Statement"], {"OrganizationId": "o-x"})

    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": "o-x"}


def test_sweep_runs_daily_by_default() -> None:
    template = load_template(STATUS_UPDATE)
    (schedule,) = _resources(template, "AWS::Scheduler::Schedule").values()

    expression = resolve(template, schedule["Properties"]["ScheduleExpression"], {})

    assert expression == "rate(1 day)"
    assert schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": ["SweepFunction", "Arn"]}
    # The scheduled function is the distributed sweep's planner.
    planner = template["Resources"]["SweepFunction"]["Properties"]
    assert planner["Handler"] == "entrypoints.sweep_run_handler.planner"


def _trust_statement(config_role: dict[str, Any]) -> dict[str, Any]:
    (statement,) = config_role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert isinstance(statement, dict)
    return statement


def _trusted_role_arns(statement: dict[str, Any]) -> list[str]:
    """The role ARNs the trust admits: the values of its aws:PrincipalArn condition."""
    arns = statement["Condition"]["StringEquals"]["aws:PrincipalArn"]
    assert isinstance(arns, list)
    return arns


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_config_role_trusts_exactly_the_production_lambda_roles(environment: str) -> None:
    production = load_template(STATUS_UPDATE)
    targets = load_template(SEND_EVENTS)
    account = "123456789012"  # the resolver's AWS::AccountId in the production stack

    # The roles of the functions that ask AWS Config (the sweep planner does not).
    lambda_roles = {
        f"arn:aws:iam::{account}:role/"
        + resolve(production, role["Properties"]["RoleName"], {"Environment": environment})
        for role in (
            production["Resources"][f["Properties"]["Role"]["Fn::GetAtt"][0]]
            for f in _resources(production, "AWS::Lambda::Function").values()
        )
        if "sts:AssumeRole" in str(role["Properties"]["Policies"])
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
    assert set(_trusted_role_arns(statement)) == lambda_roles
    assert len(lambda_roles) == 2


def _config_role(parameters: dict[str, str]) -> dict[str, Any]:
    targets = load_template(SEND_EVENTS)
    settings = {"DestinationAccountId": "111122223333", "OrganizationId": "o-x", **parameters}
    resolved: dict[str, Any] = resolve(targets, targets["Resources"]["ConfigRole"], settings)
    return resolved


@pytest.mark.parametrize("operator_role", [None, "ElmOperator"])
def test_config_role_trust_survives_re_creating_the_roles_it_trusts(
    operator_role: str | None,
) -> None:
    """IAM stores a role ARN given as a trust policy's Principal as the role's unique ID, so
    a re-created role no longer matches ("AWS JSON policy elements: Principal", IAM User Guide,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
    The trust therefore names the production account and admits ELM's roles by
    aws:PrincipalArn, and only inside the organisation by aws:PrincipalOrgID ("AWS global
    condition context keys",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    moto keeps role ARNs in a Principal as written, so only the template can show this."""
    parameters = {} if operator_role is None else {"OperatorRoleName": operator_role}

    statement = _trust_statement(_config_role(parameters))

    assert statement["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert statement["Action"] == "sts:AssumeRole"
    # One condition block: both keys must hold, any listed role ARN satisfies the second.
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:PrincipalOrgID": "o-x",
            "aws:PrincipalArn": _trusted_role_arns(statement),
        }
    }
    assert all(
        arn.startswith("arn:aws:iam::111122223333:role/") for arn in _trusted_role_arns(statement)
    )


@pytest.mark.parametrize(
    "operator_role",
    ["ElmOperator", "aws-reserved/sso.amazonaws.com/AWSReservedSSO_ElmOperator_0123abcd"],
)
def test_an_operator_role_is_trusted_beside_the_lambda_roles_and_nothing_else_changes(
    operator_role: str,
) -> None:
    default = _config_role({})
    with_operator = _config_role({"OperatorRoleName": operator_role})

    statement = _trust_statement(with_operator)
    assert _trusted_role_arns(statement) == [
        *_trusted_role_arns(_trust_statement(default)),
        f"arn:aws:iam::111122223333:role/{operator_role}",
    ]
    assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == "o-x"
    # Apart from that one role ARN, the role is the default one: same grants, same name.
    _trusted_role_arns(statement).pop()
    assert with_operator == default


def test_config_role_trusts_only_the_lambda_roles_when_no_operator_role_is_given() -> None:
    statement = _trust_statement(_config_role({}))

    assert _trusted_role_arns(statement) == [
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


def _put_events_statements(parameters: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Each role's PutEvents statements, resolved for a stack with ``parameters``."""
    template = load_template(STATUS_UPDATE)
    settings = {"OrganizationId": "o-x", **parameters}
    found = {}
    for role in ("ProcessorRole", "SweepRole"):
        policy = template["Resources"][role]["Properties"]["Policies"][0]
        raw = [s for s in policy["PolicyDocument"]["Statement"] if "events:PutEvents" in str(s)]
        resolved = resolve(template, {"Statement": raw}, settings)
        found[role] = resolved["Statement"]
    return found


def test_both_lambdas_may_put_elm_events_on_that_one_bus_only() -> None:
    """ELM publishes its own events with PutEvents on one bus of the production account;
    the action's resource is the event bus ("Actions, resources, and condition keys for
    Amazon EventBridge", Service Authorization Reference: PutEvents on event-bus)."""
    template = load_template(STATUS_UPDATE)
    for bus, arn in (
        ("default", "arn:aws:events:us-east-1:123456789012:event-bus/default"),
        ("elm-events", "arn:aws:events:us-east-1:123456789012:event-bus/elm-events"),
    ):
        for role, statements in _put_events_statements({"EventsBusName": bus}).items():
            assert statements == [
                {
                    "Sid": "PublishElmEvents",
                    "Effect": "Allow",
                    "Action": "events:PutEvents",
                    "Resource": arn,
                }
            ], role
        for function in ("ProcessorFunction", "SweepFunction", "SweepWorkerFunction"):
            env = resolve(
                template,
                template["Resources"][function]["Properties"]["Environment"],
                {"OrganizationId": "o-x", "EventsBusName": bus, **SWEEP_REFS},
            )
            assert env["Variables"]["ELM_EVENTS_BUS"] == bus, function


def test_no_bus_means_no_put_events_permission_and_publishing_off() -> None:
    for role, statements in _put_events_statements({"EventsBusName": ""}).items():
        assert statements == [], role
    template = load_template(STATUS_UPDATE)
    env = resolve(
        template,
        template["Resources"]["ProcessorFunction"]["Properties"]["Environment"],
        {"OrganizationId": "o-x", "EventsBusName": ""},
    )
    assert env["Variables"]["ELM_EVENTS_BUS"] == ""


def _dashboard_body() -> dict[str, Any]:
    """The dashboard's JSON with its ${...} placeholders filled by dummy values."""
    template = load_template(STATUS_UPDATE)
    text, _ = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    body: dict[str, Any] = __import__("json").loads(re.sub(r"\$\{[^}]+\}", "x", text))
    return body


def test_the_dashboard_charts_only_metrics_and_log_fields_elm_emits() -> None:
    from application.sweep_report import SweepOutcome
    from domain.outcomes import Outcome
    from entrypoints.aws_lambda.reporting import PUBLISH_FAILED

    emitted = (
        {o.value for o in Outcome}
        | {PUBLISH_FAILED}
        # The sweep's planner and workers (entrypoints/aws_lambda/sweep_run_handler.py).
        | {f"sweep-{o.value}" for o in SweepOutcome}
        | {"sweep-run-started", "sweep-run-finished", "sweep-run-seconds", "sweep-item-failed"}
    )
    widgets = _dashboard_body()["widgets"]
    charted = {
        m[1]
        for w in widgets
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if m[0] == "ELM"
    }
    assert charted <= emitted, charted - emitted
    assert {"closed", "member-deleted", "failed", PUBLISH_FAILED} <= charted
    sqs = {
        m[1]
        for w in widgets
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
        if m[0] == "AWS/SQS"
    }
    assert sqs == {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
    }
    (log,) = [w for w in widgets if w["type"] == "log"]
    # The processor's log line names these fields (entrypoints/aws_lambda/reporting.py).
    assert "stats count(*) as changes by account, outcome" in log["properties"]["query"]
    (alarms,) = [w for w in widgets if w["type"] == "alarm"]
    assert len(alarms["properties"]["alarms"]) == 8


def test_every_unconditional_alarm_is_on_the_dashboard() -> None:
    template = load_template(STATUS_UPDATE)
    names = {
        resolve(template, r["Properties"]["AlarmName"], {"OrganizationId": "o-x"})
        for r in _resources(template, "AWS::CloudWatch::Alarm").values()
        if "Condition" not in r
    }
    text = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][1]
    shown = {
        v.rsplit(":alarm:", 1)[1].replace("${Environment}", "PROD")
        for k, v in (
            (k, v["Fn::Sub"]) for k, v in text.items() if isinstance(v, dict) and "Fn::Sub" in v
        )
    }
    assert shown == names


def test_the_sweep_alarm_fires_when_no_run_finished_in_its_window() -> None:
    """The worker that finishes a run's last item emits sweep-run-finished (1) with the
    dimension service=elm (Powertools' Metrics(service="elm")). Every one-hour period of the
    window must be breaching, an hour without data counting as breaching, so one finished
    run in the window keeps the alarm OK. moto does not deploy alarms."""
    alarm = load_template(STATUS_UPDATE)["Resources"]["SweepNotFinishedAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("ELM", "sweep-run-finished")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "elm"}]
    assert alarm["Statistic"] == "Sum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["Period"] == 3600
    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == {"Ref": "SweepWindowHours"}
    window = load_template(STATUS_UPDATE)["Parameters"]["SweepWindowHours"]
    # CloudWatch evaluates at most seven days of one-hour periods (PutMetricAlarm).
    assert window["MaxValue"] * alarm["Period"] <= 7 * 24 * 3600
    assert window["Default"] > 24  # the default schedule is daily


def test_the_metric_the_sweep_alarm_watches_is_the_one_the_last_worker_emits() -> None:
    import inspect

    from entrypoints.aws_lambda import sweep_run_handler

    alarm = load_template(STATUS_UPDATE)["Resources"]["SweepNotFinishedAlarm"]["Properties"]
    source = inspect.getsource(sweep_run_handler)
    assert f'name="{alarm["MetricName"]}"' in source
    assert 'service="elm"' in source


def test_a_dead_lettered_sweep_item_raises_an_alarm() -> None:
    template = load_template(STATUS_UPDATE)
    alarm = template["Resources"]["SweepDeadLetterAlarm"]["Properties"]

    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SweepDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert resolve(template, alarm["AlarmName"], {}) == "elm-PROD-sweep-dlq-not-empty"


def test_the_sweep_queue_is_fifo_with_a_fifo_dlq_tls_only_and_encrypted() -> None:
    """A FIFO queue's messages of one group go to one worker at a time, and Lambda retries
    a group's failed message before that group's later ones ("Configuring scaling
    behavior for SQS event source mappings", AWS Lambda Developer Guide,
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). moto skips
    queue policies; the template is where TLS-only is shown."""
    template = load_template(STATUS_UPDATE)
    resources = template["Resources"]
    queue = resources["SweepQueue"]["Properties"]
    dlq = resources["SweepDeadLetterQueue"]["Properties"]

    assert resolve(template, queue["QueueName"], {}) == "elm-PROD-sweep.fifo"
    assert resolve(template, dlq["QueueName"], {}) == "elm-PROD-sweep-dlq.fifo"
    for props in (queue, dlq):
        assert props["FifoQueue"] is True
        assert props["SqsManagedSseEnabled"] is True
        assert props["MessageRetentionPeriod"] == FOURTEEN_DAYS
    assert queue["ContentBasedDeduplication"] is False  # every message carries its own id
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["SweepDeadLetterQueue", "Arn"]
    }
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    for policy, target in (
        ("SweepQueuePolicy", "SweepQueue"),
        ("SweepDeadLetterQueuePolicy", "SweepDeadLetterQueue"),
    ):
        document = resources[policy]["Properties"]
        assert document["Queues"] == [{"Ref": target}]
        (statement,) = document["PolicyDocument"]["Statement"]
        assert statement == {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": {"Fn::GetAtt": [target, "Arn"]},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }


def test_the_sweep_workers_are_fed_one_item_at_a_time_within_the_queues_visibility() -> None:
    """AWS: "set the source queue's visibility timeout to at least six times the timeout that
    you configure on your function" ("Creating and configuring an Amazon SQS event source
    mapping", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html);
    FIFO sources take at most 10 a batch and no batching window, and MaximumConcurrency is
    2 to 1000 ("Lambda parameters for Amazon SQS event source mappings")."""
    template = load_template(STATUS_UPDATE)
    resources = template["Resources"]
    worker = resources["SweepWorkerFunction"]["Properties"]
    mapping = resources["SweepEventSourceMapping"]["Properties"]
    workers = template["Parameters"]["SweepWorkers"]

    assert worker["Handler"] == "entrypoints.sweep_run_handler.worker"
    assert resources["SweepQueue"]["Properties"]["VisibilityTimeout"] >= 6 * worker["Timeout"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["SweepQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "SweepWorkerFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= mapping["BatchSize"] <= 10
    assert "MaximumBatchingWindowInSeconds" not in mapping
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "SweepWorkers"}}
    assert (workers["Default"], workers["MinValue"], workers["MaxValue"]) == (10, 2, 1000)
    assert resolve(template, mapping["Enabled"], {"ProcessingEnabled": "false"}) is False


def test_the_run_ledger_table_is_the_one_the_adapter_creates() -> None:
    """create_run_table (adapters/aws/sweep_run.py) is what the tests and the demo use;
    the deployed table must have its keys, billing and TTL attribute. moto ignores TTL,
    PITR and SSE, so they are shown here."""
    from unittest import mock

    from adapters.aws.sweep_run import create_run_table

    client = mock.MagicMock()
    create_run_table(client, "t")
    created = client.create_table.call_args.kwargs
    ttl = client.update_time_to_live.call_args.kwargs["TimeToLiveSpecification"]
    template = load_template(STATUS_UPDATE)
    table = resolve(template, template["Resources"]["SweepRunsTable"]["Properties"], {})

    assert table["TableName"] == "elm-PROD-sweep-runs"
    assert table["KeySchema"] == created["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        created["AttributeDefinitions"], key=str
    )
    assert table["BillingMode"] == created["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == ttl == {"AttributeName": "TTL", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_the_planner_and_the_workers_know_the_queue_and_the_ledger() -> None:
    from entrypoints.composition.sweep_run_wiring import RunWiring

    template = load_template(STATUS_UPDATE)
    for function in ("SweepFunction", "SweepWorkerFunction"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["ELM_SWEEP_QUEUE_URL"] == {"Ref": "SweepQueue"}, function
        assert variables["ELM_SWEEP_RUNS_TABLE"] == {"Ref": "SweepRunsTable"}, function
        shape = {"SweepSegments": "8", "SweepChunkRecords": "50", **SWEEP_REFS}
        resolved = resolve(template, variables, shape)
        wiring = RunWiring.from_env({k: str(v) for k, v in resolved.items()})
        assert (wiring.run.segments, wiring.run.chunk_records) == (8, 50), function


@pytest.mark.parametrize(
    ("bus", "email", "notifies"),
    [("default", "a@example.com", True), ("default", "", False), ("", "a@example.com", False)],
)
def test_the_topic_for_closes_exists_only_with_an_address_and_a_bus(
    bus: str, email: str, notifies: bool
) -> None:
    template = load_template(STATUS_UPDATE)
    parameters = {"EventsBusName": bus, "NotificationEmail": email}
    assert condition(template, "NotifiesCloses", parameters) is notifies


def test_the_closes_rule_reads_fields_every_closed_event_has() -> None:
    import json
    from pathlib import Path

    template = load_template(STATUS_UPDATE)
    rule = template["Resources"]["ClosedExceptionsRule"]["Properties"]
    assert rule["EventPattern"] == {"source": ["elm"], "detail-type": ["Exception Closed"]}
    schema = json.loads((Path(__file__).parents[2] / "docs" / "events.schema.json").read_text())
    change = schema["$defs"]["change"]
    (target,) = rule["Targets"]
    for name, path in target["InputTransformer"]["InputPathsMap"].items():
        parts = path.removeprefix("$.detail.").split(".")
        node = change
        for part in parts:
            assert part in node["required"], (name, path)
            node = node["properties"][part]
        assert f"<{name}>" in target["InputTransformer"]["InputTemplate"], name
