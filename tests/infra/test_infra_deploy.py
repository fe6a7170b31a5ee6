"""The three templates deploy on moto and wire the flow of docs/behaviour.md.

moto skips AWS::SQS::QueuePolicy, AWS::Events::EventBusPolicy, AWS::CloudWatch::Alarm,
AWS::Lambda::EventInvokeConfig and AWS::Scheduler::Schedule (with a warning); it ignores
TTL, PITR and SSE on tables. What it does deploy is checked here; the rest is checked on
the template itself in test_infra_templates.py.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import boto3
import pytest
from infra_deploy import (
    CONFIG_ROLE_REGION,
    ORGANIZATION_ID,
    PRODUCTION_ACCOUNT,
    PRODUCTION_REGION,
    STACKSET_REGIONS,
    TARGET_ACCOUNTS,
    TARGET_REGIONS,
    account_session,
    deploy_production,
    deploy_send_events,
    deploy_tables,
)
from mypy_boto3_cloudformation import CloudFormationClient

from domain.deletion import EXCEPTION_ANNOTATIONS
from entrypoints.composition.settings import Settings
from entrypoints.local.sample_events import compliance_change_event, deletion_event

pytestmark = [
    pytest.mark.moto,
    # moto warns for each resource type it skips (see above); the message holds no colon-free
    # type name, so the filter matches its start.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS"),
]


def _key_schema(table: dict[str, Any]) -> dict[str, tuple[str, str]]:
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    return {
        k["KeyType"]: (k["AttributeName"], types[k["AttributeName"]]) for k in table["KeySchema"]
    }


def test_tables_stack_creates_both_tables_with_the_spec_keys(
    cloudformation: CloudFormationClient,
) -> None:
    outputs = deploy_tables(cloudformation)
    dynamodb = boto3.client("dynamodb", region_name=PRODUCTION_REGION)

    rules = dynamodb.describe_table(TableName="Config-Master")["Table"]
    exceptions = dynamodb.describe_table(TableName="Config-ResourceExceptions")["Table"]

    assert _key_schema(rules) == {"HASH": ("RuleId", "N")}
    assert _key_schema(exceptions) == {
        "HASH": ("AccountId_RuleId", "S"),
        "RANGE": ("Exception", "S"),
    }
    for table in (rules, exceptions):
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert outputs["RulesTableName"] == "Config-Master"
    assert outputs["ExceptionsTableName"] == "Config-ResourceExceptions"


def test_production_queue_redrives_to_an_encrypted_dlq(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    sqs = boto3.client("sqs", region_name=PRODUCTION_REGION)
    timeout = boto3.client("lambda", region_name=PRODUCTION_REGION).get_function_configuration(
        FunctionName=outputs["ProcessorFunctionName"]
    )["Timeout"]

    queue = sqs.get_queue_attributes(QueueUrl=outputs["EventsQueueUrl"], AttributeNames=["All"])
    dlq = sqs.get_queue_attributes(QueueUrl=outputs["DeadLetterQueueUrl"], AttributeNames=["All"])
    redrive = json.loads(queue["Attributes"]["RedrivePolicy"])

    assert redrive["deadLetterTargetArn"] == dlq["Attributes"]["QueueArn"]
    assert int(redrive["maxReceiveCount"]) >= 5
    assert int(queue["Attributes"]["VisibilityTimeout"]) >= 6 * timeout
    assert int(dlq["Attributes"]["MessageRetentionPeriod"]) == 14 * 24 * 3600
    # An expired message is deleted, not dead-lettered: the queue keeps its events as long
    # as SQS allows, and the DLQ (which counts from the first enqueue) no shorter.
    assert int(queue["Attributes"]["MessageRetentionPeriod"]) == 14 * 24 * 3600
    assert queue["Attributes"]["SqsManagedSseEnabled"] == "true"
    assert dlq["Attributes"]["SqsManagedSseEnabled"] == "true"


@pytest.mark.parametrize(("environment", "prefix"), [("DEV", "DEV-"), ("PROD", "")])
def test_production_functions_run_the_handlers_with_valid_settings(
    cloudformation: CloudFormationClient,
    code_package: tuple[str, str],
    environment: str,
    prefix: str,
) -> None:
    outputs = deploy_production(
        cloudformation, code_package, environment, AllowedAccounts="111111111111,222222222222"
    )
    lambda_ = boto3.client("lambda", region_name=PRODUCTION_REGION)

    processor = lambda_.get_function_configuration(FunctionName=outputs["ProcessorFunctionName"])
    planner = lambda_.get_function_configuration(FunctionName=outputs["SweepPlannerFunctionName"])
    worker = lambda_.get_function_configuration(FunctionName=outputs["SweepWorkerFunctionName"])

    assert processor["Handler"] == "entrypoints.lambda_handler.handler"
    assert planner["Handler"] == "entrypoints.sweep_run_handler.planner"
    assert worker["Handler"] == "entrypoints.sweep_run_handler.worker"
    # The scheduled function keeps the single-function sweep's name: updated in place.
    assert planner["FunctionName"] == f"elm-sweep-{environment}"
    for function in (processor, planner, worker):
        assert function["Runtime"].startswith("python3.")
        # The settings the template passes are ones the code accepts, with the right prefix.
        # Lambda environment values are strings; moto keeps a Number parameter as an int.
        variables = {k: str(v) for k, v in function["Environment"]["Variables"].items()}
        settings = Settings.from_env(variables)
        assert settings.rule_prefix == prefix
        assert settings.allowed_accounts == frozenset(TARGET_ACCOUNTS)
        assert settings.exceptions_table == "Config-ResourceExceptions"
        assert settings.rules_table == "Config-Master"


@pytest.mark.parametrize(("processing", "state"), [("true", "Enabled"), ("false", "Disabled")])
def test_event_source_mapping_reports_batch_item_failures(
    cloudformation: CloudFormationClient,
    code_package: tuple[str, str],
    processing: str,
    state: str,
) -> None:
    outputs = deploy_production(
        cloudformation, code_package, ProcessingEnabled=processing, MaximumConcurrency="7"
    )

    (mapping,) = boto3.client("lambda", region_name=PRODUCTION_REGION).list_event_source_mappings(
        FunctionName=outputs["ProcessorFunctionName"]
    )["EventSourceMappings"]

    assert mapping["EventSourceArn"] == outputs["EventsQueueArn"]
    assert mapping["State"] == state
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
    assert mapping["MaximumBatchingWindowInSeconds"] == 5
    assert int(mapping["ScalingConfig"]["MaximumConcurrency"]) == 7


def _inline_policy(iam: Any, role_name: str) -> list[dict[str, Any]]:
    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        # moto stores a CloudFormation-made inline policy as the repr of a dict, not JSON.
        document = ast.literal_eval(document)
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs allowed by the statements."""
    pairs = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        pairs |= {(a, r) for a in actions for r in resources}
    return pairs


def test_roles_grant_only_what_each_path_needs_on_the_tables(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    deploy_production(cloudformation, code_package)
    iam = boto3.client("iam")
    table = f"arn:aws:dynamodb:{PRODUCTION_REGION}:{PRODUCTION_ACCOUNT}:table"
    exceptions, rules = f"{table}/Config-ResourceExceptions", f"{table}/Config-Master"

    runs = f"{table}/elm-PROD-sweep-runs"
    processor = _grants(_inline_policy(iam, "elm-status-update-PROD"))
    worker = _grants(_inline_policy(iam, "elm-sweep-PROD"))
    planner = _grants(_inline_policy(iam, "elm-sweep-planner-PROD"))

    event_path = {
        (f"dynamodb:{action}", t)
        for action in ("GetItem", "Query", "UpdateItem")
        for t in (exceptions, rules)
    }
    assert {g for g in processor if g[0].startswith("dynamodb:")} == event_path | {
        ("dynamodb:Scan", rules)
    }
    # A worker scans its segment, reads a chunk's records (BatchGetItem; GetItem re-reads one
    # after a lost race) and conditionally updates them, reads the rules, and counts items
    # in the ledger: TransactWriteItems is authorised by the item-level actions of its parts
    # (a Put and an Update), GetItem reads the totals.
    assert {g for g in worker if g[0].startswith("dynamodb:")} == {
        ("dynamodb:BatchGetItem", exceptions),
        ("dynamodb:GetItem", exceptions),
        ("dynamodb:Scan", exceptions),
        ("dynamodb:UpdateItem", exceptions),
        ("dynamodb:GetItem", rules),
        ("dynamodb:Scan", rules),
        ("dynamodb:GetItem", runs),
        ("dynamodb:PutItem", runs),
        ("dynamodb:UpdateItem", runs),
    }
    # The planner opens runs, and touches neither the exceptions nor the rules.
    assert {g for g in planner if g[0].startswith("dynamodb:")} == {
        ("dynamodb:PutItem", runs),
        ("dynamodb:UpdateItem", runs),
    }
    for grants in (processor, worker, planner):
        assert not any("*" in action for action, _ in grants)


def test_the_sweep_roles_reach_only_the_sweep_queue_their_logs_and_the_bus(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    iam = boto3.client("iam")
    queue = outputs["SweepQueueArn"]
    logs = f"arn:aws:logs:{PRODUCTION_REGION}:{PRODUCTION_ACCOUNT}:log-group:/aws/lambda"
    bus = f"arn:aws:events:{PRODUCTION_REGION}:{PRODUCTION_ACCOUNT}:event-bus/default"

    worker = _grants(_inline_policy(iam, "elm-sweep-PROD"))
    planner = _grants(_inline_policy(iam, "elm-sweep-planner-PROD"))

    # A worker consumes the queue and queues a segment's chunks on it; the planner only
    # queues a run's segments. Nothing reaches the sweep DLQ but SQS's redrive.
    assert {g for g in worker if g[0].startswith("sqs:")} == {
        (f"sqs:{action}", queue)
        for action in (
            "ReceiveMessage",
            "DeleteMessage",
            "GetQueueAttributes",
            "ChangeMessageVisibility",
            "SendMessage",
        )
    }
    assert {g for g in planner if g[0].startswith("sqs:")} == {("sqs:SendMessage", queue)}
    # A log group's Arn attribute ends in ":*" on AWS, and not on moto.
    for grants, group in ((worker, "elm-sweep-worker-PROD"), (planner, "elm-sweep-PROD")):
        assert {(a, r.removesuffix(":*")) for a, r in grants if a.startswith("logs:")} == {
            (f"logs:{action}", f"{logs}/{group}") for action in ("CreateLogStream", "PutLogEvents")
        }
    assert {g for g in worker if g[0].startswith("events:")} == {("events:PutEvents", bus)}
    assert {a.split(":")[0] for a, _ in planner} == {"dynamodb", "sqs", "logs"}


def test_the_sweep_queue_is_fifo_and_redrives_to_a_fifo_dlq(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    sqs = boto3.client("sqs", region_name=PRODUCTION_REGION)
    timeout = boto3.client("lambda", region_name=PRODUCTION_REGION).get_function_configuration(
        FunctionName=outputs["SweepWorkerFunctionName"]
    )["Timeout"]

    queue = sqs.get_queue_attributes(QueueUrl=outputs["SweepQueueUrl"], AttributeNames=["All"])
    dlq = sqs.get_queue_attributes(
        QueueUrl=outputs["SweepDeadLetterQueueUrl"], AttributeNames=["All"]
    )
    redrive = json.loads(queue["Attributes"]["RedrivePolicy"])

    assert outputs["SweepQueueUrl"].endswith("/elm-PROD-sweep.fifo")
    assert outputs["SweepDeadLetterQueueUrl"].endswith("/elm-PROD-sweep-dlq.fifo")
    assert queue["Attributes"]["FifoQueue"] == dlq["Attributes"]["FifoQueue"] == "true"
    assert redrive["deadLetterTargetArn"] == dlq["Attributes"]["QueueArn"]
    assert redrive["deadLetterTargetArn"] == outputs["SweepDeadLetterQueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert int(queue["Attributes"]["VisibilityTimeout"]) >= 6 * timeout
    for attributes in (queue["Attributes"], dlq["Attributes"]):
        assert int(attributes["MessageRetentionPeriod"]) == 14 * 24 * 3600
        assert attributes["SqsManagedSseEnabled"] == "true"


@pytest.mark.parametrize(("processing", "state"), [("true", "Enabled"), ("false", "Disabled")])
def test_the_sweep_workers_drain_the_sweep_queue_with_partial_failures(
    cloudformation: CloudFormationClient,
    code_package: tuple[str, str],
    processing: str,
    state: str,
) -> None:
    outputs = deploy_production(
        cloudformation, code_package, ProcessingEnabled=processing, SweepWorkers="20"
    )

    (mapping,) = boto3.client("lambda", region_name=PRODUCTION_REGION).list_event_source_mappings(
        FunctionName=outputs["SweepWorkerFunctionName"]
    )["EventSourceMappings"]

    assert mapping["EventSourceArn"] == outputs["SweepQueueArn"]
    assert mapping["State"] == state
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 1
    assert int(mapping["ScalingConfig"]["MaximumConcurrency"]) == 20


def test_the_run_ledger_table_has_the_adapters_keys(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    dynamodb = boto3.client("dynamodb", region_name=PRODUCTION_REGION)

    table = dynamodb.describe_table(TableName=outputs["SweepRunsTableName"])["Table"]

    assert outputs["SweepRunsTableName"] == "elm-PROD-sweep-runs"
    assert _key_schema(table) == {"HASH": ("RunId", "S"), "RANGE": ("ItemId", "S")}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_config_role_may_be_assumed_only_in_the_organisation(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    deploy_production(cloudformation, code_package)
    iam = boto3.client("iam")

    for role in ("elm-status-update-PROD", "elm-sweep-PROD"):
        (assume,) = [s for s in _inline_policy(iam, role) if s["Action"] == "sts:AssumeRole"]
        assert assume["Resource"] == "arn:aws:iam::*:role/Role-Config-Mgmt"
        assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}


def _trust_statement(iam: Any) -> dict[str, Any]:
    trust = iam.get_role(RoleName="Role-Config-Mgmt")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    (statement,) = trust["Statement"]
    assert isinstance(statement, dict)
    return statement


def _trusted_roles(statement: dict[str, Any]) -> list[str]:
    """The role ARNs the trust admits (aws:PrincipalArn), sorted; the principal is the
    production account, so that a re-created role is still trusted (IAM keeps a role
    named as a Principal by its unique ID, which moto does not emulate)."""
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{PRODUCTION_ACCOUNT}:root"}
    return sorted(statement["Condition"]["StringEquals"]["aws:PrincipalArn"])


def test_stackset_creates_the_config_role_once_per_account_trusting_only_elm(
    cloudformation: CloudFormationClient,
) -> None:
    deploy_send_events(cloudformation)

    for account in TARGET_ACCOUNTS:
        iam = account_session(account, CONFIG_ROLE_REGION).client("iam")
        statement = _trust_statement(iam)

        assert _trusted_roles(statement) == [
            f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/elm-status-update-PROD",
            f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/elm-sweep-PROD",
        ]
        assert _grants(_inline_policy(iam, "Role-Config-Mgmt")) == {
            ("config:ListDiscoveredResources", "*")
        }
        # Every region forwards; IAM is global, so only the ConfigRoleRegion instance
        # declares the role (a second one would collide on the name).
        for region in TARGET_REGIONS:
            session = account_session(account, region)
            rules = session.client("events").list_rules(NamePrefix="elm-forward-deletions-")
            stacks = session.client("cloudformation")
            (summary,) = stacks.list_stacks()["StackSummaries"]
            logical_ids = {
                r["LogicalResourceId"]
                for r in stacks.list_stack_resources(StackName=summary["StackName"])[
                    "StackResourceSummaries"
                ]
            }

            assert [r["Name"] for r in rules["Rules"]] == ["elm-forward-deletions-PROD"]
            assert ("ConfigRole" in logical_ids) is (region == CONFIG_ROLE_REGION)


def test_stackset_with_an_operator_role_lets_that_role_assume_the_config_role_too(
    cloudformation: CloudFormationClient,
) -> None:
    deploy_send_events(cloudformation, OperatorRoleName="ElmOperator")

    for account in TARGET_ACCOUNTS:
        iam = account_session(account, CONFIG_ROLE_REGION).client("iam")
        statement = _trust_statement(iam)

        assert _trusted_roles(statement) == [
            f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/ElmOperator",
            f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/elm-status-update-PROD",
            f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/elm-sweep-PROD",
        ]
        assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORGANIZATION_ID
        assert _grants(_inline_policy(iam, "Role-Config-Mgmt")) == {
            ("config:ListDiscoveredResources", "*")
        }


def _put(account: str, region: str, event: dict[str, Any]) -> None:
    events = account_session(account, region).client("events")
    response = events.put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
            }
        ]
    )
    assert response["FailedEntryCount"] == 0


def _drain(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=PRODUCTION_REGION)
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _event(
    account: str, region: str, rule_name: str, resource_id: str, **kwargs: Any
) -> dict[str, Any]:
    return compliance_change_event(
        account_id=account,
        region=region,
        rule_name=rule_name,
        resource_type="AWS::EC2::SecurityGroup",
        resource_id=resource_id,
        **kwargs,
    )


def test_deletion_events_from_every_target_reach_the_production_queue(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    deploy_send_events(cloudformation)
    sent = {}
    for account in TARGET_ACCOUNTS:
        for region in TARGET_REGIONS:
            resource_id = f"sg-{account}-{region}"
            sent[resource_id] = deletion_event(
                account_id=account,
                region=region,
                rule_name="sg-no-open-ingress",
                resource_type="AWS::EC2::SecurityGroup",
                resource_id=resource_id,
            )
            _put(account, region, sent[resource_id])

    received = {body["detail"]["resourceId"]: body for body in _drain(outputs["EventsQueueUrl"])}

    assert set(received) == set(sent)
    for resource_id, body in received.items():
        assert body["source"] == "aws.config"
        assert body["detail"] == sent[resource_id]["detail"]


def test_non_deletion_events_do_not_reach_the_production_queue(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    deploy_send_events(cloudformation)
    account, region = TARGET_ACCOUNTS[0], TARGET_REGIONS[0]

    _put(
        account,
        region,
        _event(
            account,
            region,
            "sg-open",
            "sg-still-there",
            new_compliance="NON_COMPLIANT",
            new_annotation="Ingress 0.0.0.0/0 on port 22.",
        ),
    )
    _put(
        account,
        region,
        _event(account, region, "sg-open", "sg-no-exception", old_annotation="Other."),
    )
    _put(
        account,
        region,
        _event(account, region, "sg-open", "sg-deleted", old_annotation=EXCEPTION_ANNOTATIONS[2]),
    )

    # The last one, a deletion, shows the path was open for the other two.
    assert [b["detail"]["resourceId"] for b in _drain(outputs["EventsQueueUrl"])] == ["sg-deleted"]


def test_dev_estate_carries_only_dev_rules(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package, "DEV")
    deploy_send_events(cloudformation, "DEV")
    account, region = TARGET_ACCOUNTS[1], TARGET_REGIONS[1]

    for rule_name in ("sg-open", "DEV", "dev-sg-open", "QA-sg-open", "DEV-sg-open"):
        _put(account, region, _event(account, region, rule_name, f"sg-{rule_name or 'none'}"))

    assert [b["detail"]["configRuleName"] for b in _drain(outputs["EventsQueueUrl"])] == [
        "DEV-sg-open"
    ]


def test_the_production_account_is_a_target_account_too(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    """The documented StackSet covers the production account: its config role exists there,
    trusting ELM's roles; its other regions forward their deletion events, and its own
    region's events, already on the production bus, are queued once (no rule sends the bus
    its own events back)."""
    outputs = deploy_production(cloudformation, code_package)
    deploy_send_events(cloudformation)

    iam = boto3.client("iam")
    assert _trusted_roles(_trust_statement(iam)) == [
        f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/elm-status-update-PROD",
        f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/elm-sweep-PROD",
    ]
    assert _grants(_inline_policy(iam, "Role-Config-Mgmt")) == {
        ("config:ListDiscoveredResources", "*")
    }
    forwarding = {
        region: sorted(
            r["Name"]
            for r in boto3.client("events", region_name=region).list_rules(
                NamePrefix="elm-forward-"
            )["Rules"]
        )
        for region in STACKSET_REGIONS
    }
    both_signals = ["elm-forward-config-items-PROD", "elm-forward-deletions-PROD"]
    assert forwarding == {
        region: [] if region == PRODUCTION_REGION else both_signals for region in STACKSET_REGIONS
    }

    sent = {}
    for region in STACKSET_REGIONS:
        resource_id = f"sg-production-{region}"
        sent[resource_id] = deletion_event(
            account_id=PRODUCTION_ACCOUNT,
            region=region,
            rule_name="sg-no-open-ingress",
            resource_type="AWS::EC2::SecurityGroup",
            resource_id=resource_id,
        )
        _put(PRODUCTION_ACCOUNT, region, sent[resource_id])

    received = [body["detail"]["resourceId"] for body in _drain(outputs["EventsQueueUrl"])]
    assert sorted(received) == sorted(sent)


def test_the_dashboard_the_alarms_and_a_topic_for_closes_deploy(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(
        cloudformation, code_package, NotificationEmail="platform@example.com"
    )
    cloudwatch = boto3.client("cloudwatch", region_name=PRODUCTION_REGION)
    sns = boto3.client("sns", region_name=PRODUCTION_REGION)
    events = boto3.client("events", region_name=PRODUCTION_REGION)

    dashboard = cloudwatch.get_dashboard(DashboardName=outputs["DashboardName"])
    widgets = json.loads(dashboard["DashboardBody"])["widgets"]
    assert {w["type"] for w in widgets} == {"metric", "log", "alarm"}
    shown = next(w for w in widgets if w["type"] == "alarm")["properties"]["alarms"]
    assert "arn:aws:cloudwatch:us-east-1:123456789012:alarm:elm-PROD-sweep-not-finished" in [
        a.replace(a.split(":")[4], "123456789012") for a in shown
    ]
    topic = outputs["ClosedExceptionsTopicArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("email", "platform@example.com")
    ]
    targets = events.list_targets_by_rule(Rule="elm-PROD-exception-closed")["Targets"]
    assert [t["Arn"] for t in targets] == [topic]
    assert "InputTransformer" in targets[0]


def test_no_address_means_no_topic(
    cloudformation: CloudFormationClient, code_package: tuple[str, str]
) -> None:
    outputs = deploy_production(cloudformation, code_package)
    assert "ClosedExceptionsTopicArn" not in outputs
    assert boto3.client("sns", region_name=PRODUCTION_REGION).list_topics()["Topics"] == []
