"""A local AWS for `elm local`: a moto server in this process, and the three stacks deployed on it.

Everything goes through a private boto3 session with dummy credentials and an explicit
endpoint, so that neither the environment nor `boto3.DEFAULT_SESSION` is touched and no call
can reach a real AWS account. Target accounts are reached by `AssumeRole` into them (moto
then addresses that account's backends).
"""

from __future__ import annotations

import logging
import os
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from adapters.aws import client_config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "CODE_BUCKET",
    "CODE_KEY",
    "ORGANIZATION_ID",
    "PRODUCTION_ACCOUNT",
    "PRODUCTION_REGION",
    "TEMPLATES",
    "LocalAws",
    "LocalAwsError",
    "ProductionStack",
    "isolated_session",
    "local_aws",
]

PRODUCTION_ACCOUNT = "123456789012"
"""moto's default account: the one dummy credentials act in."""
PRODUCTION_REGION = "us-east-1"
ORGANIZATION_ID = "o-elmlocal000"
CODE_BUCKET = "elm-artifacts-local"
CODE_KEY = "elm-local.zip"
TEMPLATES = Path(__file__).resolve().parents[2] / "infra"
"""infra/ of the source checkout `elm local` runs from."""

_DUMMY = "elm-local"
# moto and its web server log every request and every resource type they skip; the
# pipeline reports what matters itself.
_NOISY_LOGGERS = ("werkzeug", "moto")
# Read by the boto3 sessions moto makes for itself inside the server: a missing profile
# breaks them, and a fixed moto account would collapse the target accounts into one.
_HIDDEN_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID")


class LocalAwsError(Exception):
    """The local AWS cannot be set up; the message is one line saying why."""


class ProductionStack:
    """What elm-status-update.yaml created: its outputs, and the processor's environment
    (and the sweep workers')."""

    def __init__(
        self,
        outputs: dict[str, str],
        environment: dict[str, str],
        sweep_environment: dict[str, str] | None = None,
    ) -> None:
        self.outputs = outputs
        self.environment = environment
        self.sweep_environment = sweep_environment or {}

    @property
    def queue_url(self) -> str:
        """The production queue the deletion events land in."""
        return self.outputs["EventsQueueUrl"]

    @property
    def queue_arn(self) -> str:
        """Its ARN, as the Lambda's SQS records carry it."""
        return self.outputs["EventsQueueArn"]


class LocalAws:
    """A running moto server and clients for it, in the production or a target account."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session = isolated_session(_DUMMY, _DUMMY)
        self._accounts: dict[str, boto3.Session] = {}

    def client(self, service: str, region: str = PRODUCTION_REGION) -> Any:
        """A client of ``service`` in the production account."""
        return self.session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint,
            config=client_config(),
        )

    def account_client(self, account_id: str, service: str, region: str) -> Any:
        """A client of ``service`` acting in (target) account ``account_id``."""
        session = self._accounts.get(account_id)
        if session is None:
            credentials = self.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/elm-local",
                RoleSessionName="elm-local",
            )["Credentials"]
            session = isolated_session(
                credentials["AccessKeyId"],
                credentials["SecretAccessKey"],
                credentials["SessionToken"],
            )
            self._accounts[account_id] = session
        return session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint,
            config=client_config(),
        )

    def deploy_tables(self) -> None:
        """elm-tables.yaml with its defaults: Config-Master and Config-ResourceExceptions."""
        self._deploy("elm-tables", _template("elm-tables.yaml"))

    def deploy_production(self, code: bytes, **parameters: str) -> ProductionStack:
        """elm-status-update.yaml, its Lambda code from ``code``, processing paused.

        Paused because moto would try to run the function in Docker for each queued message;
        `elm local` drains the queue into the handler itself.
        """
        s3 = self.client("s3")
        s3.create_bucket(Bucket=CODE_BUCKET)
        s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=code)
        settings = {
            "Environment": "PROD",
            "OrganizationId": ORGANIZATION_ID,
            "CodeS3Bucket": CODE_BUCKET,
            "CodeS3Key": CODE_KEY,
            "ProcessingEnabled": "false",
            **parameters,
        }
        outputs = self._deploy("elm-status-update", _template("elm-status-update.yaml"), settings)
        return ProductionStack(
            outputs,
            self._environment(outputs["ProcessorFunctionName"]),
            self._environment(outputs["SweepWorkerFunctionName"]),
        )

    def _environment(self, function_name: str) -> dict[str, str]:
        function = self.client("lambda").get_function_configuration(FunctionName=function_name)
        # Lambda environment values are strings; moto keeps a Number parameter as an int.
        variables = function.get("Environment", {}).get("Variables", {})
        return {k: str(v) for k, v in variables.items()}

    def deploy_send_events(self, accounts: Sequence[str], regions: Sequence[str]) -> None:
        """elm-send-events.yaml in every account and region, through a self-managed StackSet.

        Production uses a service-managed StackSet over the organisation; moto creates stack
        instances in other accounts only for self-managed ones. The template is the same.
        """
        parameters = {
            "Environment": "PROD",
            "DestinationAccountId": PRODUCTION_ACCOUNT,
            "DestinationRegion": PRODUCTION_REGION,
            "OrganizationId": ORGANIZATION_ID,
            "ConfigRoleRegion": regions[0],
        }
        cloudformation: CloudFormationClient = self.client("cloudformation")
        cloudformation.create_stack_set(
            StackSetName="elm-send-events",
            TemplateBody=_template("elm-send-events.yaml").read_text(encoding="utf-8"),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_NAMED_IAM"],
            PermissionModel="SELF_MANAGED",
        )
        cloudformation.create_stack_instances(
            StackSetName="elm-send-events", Accounts=list(accounts), Regions=list(regions)
        )
        for account in accounts:
            role = parameters.get("ConfigRoleName", "Role-Config-Mgmt")
            try:
                self.account_client(account, "iam", regions[0]).get_role(RoleName=role)
            except ClientError as error:
                raise LocalAwsError(
                    f"the send-events stack set created no {role} in {account}: {error}"
                ) from None
            for region in regions:
                if (account, region) == (PRODUCTION_ACCOUNT, PRODUCTION_REGION):
                    continue  # its events are on the production bus already: nothing to forward
                rules = self.account_client(account, "events", region).list_rules(
                    NamePrefix="elm-forward-deletions-"
                )["Rules"]
                if not rules:
                    raise LocalAwsError(
                        f"the send-events stack instance in {account} {region} has no rule"
                    )

    def _deploy(
        self, name: str, template: Path, parameters: dict[str, str] | None = None
    ) -> dict[str, str]:
        cloudformation: CloudFormationClient = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=template.read_text(encoding="utf-8"),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            reason = stack.get("StackStatusReason", "no reason given")
            raise LocalAwsError(f"stack {name} ended {stack['StackStatus']}: {reason}")
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def isolated_session(access_key: str, secret_key: str, token: str | None = None) -> boto3.Session:
    """A session with these credentials that reads no AWS profile or config file.

    A profile named in ``AWS_PROFILE`` that does not exist would otherwise fail every client,
    and one that exists could carry settings meant for a real account.
    """
    botocore_session = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    return boto3.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=token,
        region_name=PRODUCTION_REGION,
        botocore_session=botocore_session,
    )


@contextmanager
def local_aws(port: int = 0) -> Iterator[LocalAws]:
    """Start a moto server on ``port`` (0: a free one) of 127.0.0.1; stop it, and forget its
    state, on exit."""
    levels = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        with _hidden(_HIDDEN_VARIABLES), warnings.catch_warnings():
            # moto's CloudFormation warns for each resource type it skips (bus and queue
            # policies, alarms, the schedule): known, and listed in the README.
            warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            # moto's backends are process-wide: start from, and leave, an empty AWS.
            _reset(endpoint)
            try:
                yield LocalAws(endpoint)
            finally:
                _reset(endpoint)
    finally:
        server.stop()
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def _hidden(variables: Sequence[str]) -> Iterator[None]:
    """Unset ``variables`` for the duration; put back exactly what was there."""
    saved = {name: os.environ.pop(name) for name in variables if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()


def _template(name: str) -> Path:
    path = TEMPLATES / name
    if not path.is_file():
        raise LocalAwsError(f"{path} not found: elm local runs from a source checkout of ELM")
    return path
