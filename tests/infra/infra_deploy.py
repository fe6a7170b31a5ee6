"""Deploying the templates on moto: the estate's accounts and regions, and deploy helpers.

The production account is moto's default account; target accounts are reached with
``AssumeRole`` into them (moto then addresses that account's backends). The production
account is a target account too: the send-events StackSet deploys there as well.
"""

from __future__ import annotations

from pathlib import Path

import boto3
from cfn_templates import SEND_EVENTS, STATUS_UPDATE, TABLES
from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "CODE_BUCKET",
    "CODE_KEY",
    "CONFIG_ROLE_REGION",
    "ORGANIZATION_ID",
    "PRODUCTION_ACCOUNT",
    "PRODUCTION_REGION",
    "STACKSET_ACCOUNTS",
    "STACKSET_REGIONS",
    "TARGET_ACCOUNTS",
    "TARGET_REGIONS",
    "account_session",
    "deploy",
    "deploy_production",
    "deploy_send_events",
    "deploy_tables",
]

PRODUCTION_ACCOUNT = "123456789012"  # moto's default account
PRODUCTION_REGION = "us-east-1"
TARGET_ACCOUNTS = ("111111111111", "222222222222")
TARGET_REGIONS = ("eu-west-1", "eu-central-1")
CONFIG_ROLE_REGION = "eu-west-1"
# Where the documented StackSet deploys: every account of the organisation, the production
# one included, in every Config-enabled region, the production region included.
STACKSET_ACCOUNTS = (*TARGET_ACCOUNTS, PRODUCTION_ACCOUNT)
STACKSET_REGIONS = (PRODUCTION_REGION, *TARGET_REGIONS)
ORGANIZATION_ID = "o-abcdefghij"
CODE_BUCKET = "elm-artifacts"
CODE_KEY = "elm-0.1.0.zip"


def deploy(
    cloudformation: CloudFormationClient, name: str, template: Path, **parameters: str
) -> dict[str, str]:
    """Create a stack, require CREATE_COMPLETE, return its outputs."""
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deploy_tables(cloudformation: CloudFormationClient) -> dict[str, str]:
    """elm-tables.yaml with its defaults."""
    return deploy(cloudformation, "elm-tables", TABLES)


def deploy_production(
    cloudformation: CloudFormationClient,
    code: tuple[str, str],
    environment: str = "PROD",
    **parameters: str,
) -> dict[str, str]:
    """elm-status-update.yaml. Processing is paused unless asked for: with the event source
    mapping enabled, moto would try to run the function in Docker on every queued message."""
    settings = {
        "Environment": environment,
        "OrganizationId": ORGANIZATION_ID,
        "CodeS3Bucket": code[0],
        "CodeS3Key": code[1],
        "ProcessingEnabled": "false",
    }
    settings.update(parameters)
    return deploy(cloudformation, "elm-status-update", STATUS_UPDATE, **settings)


def deploy_send_events(
    cloudformation: CloudFormationClient, environment: str = "PROD", **parameters: str
) -> None:
    """elm-send-events.yaml through a self-managed StackSet, in `STACKSET_ACCOUNTS` (the
    production account among them) and `STACKSET_REGIONS`.

    Production uses a service-managed StackSet (docs/deploying.md); moto creates instances
    in other accounts only for self-managed ones. The template is the same. ``parameters``
    add to (or override) the template parameters passed.
    """
    parameters = {
        "Environment": environment,
        "DestinationAccountId": PRODUCTION_ACCOUNT,
        "DestinationRegion": PRODUCTION_REGION,
        "OrganizationId": ORGANIZATION_ID,
        "ConfigRoleRegion": CONFIG_ROLE_REGION,
        **parameters,
    }
    cloudformation.create_stack_set(
        StackSetName="elm-send-events",
        TemplateBody=SEND_EVENTS.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
        PermissionModel="SELF_MANAGED",
    )
    cloudformation.create_stack_instances(
        StackSetName="elm-send-events",
        Accounts=list(STACKSET_ACCOUNTS),
        Regions=list(STACKSET_REGIONS),
    )


def account_session(account_id: str, region: str) -> boto3.Session:
    """A session acting in another (target) account."""
    sts = boto3.client("sts", region_name=PRODUCTION_REGION)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/elm-tests", RoleSessionName="elm-tests"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
