"""The ARN table pinned to AWS's documented examples, with near misses that must not match.

Sources (the "Resource types defined by ..." table of each page):
- "Actions, resources, and condition keys for Amazon EC2", Service Authorization Reference,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
  (``arn:${Partition}:ec2:${Region}:${Account}:security-group/${SecurityGroupId}``).
- "Actions, resources, and condition keys for AWS Identity and Access Management (IAM)",
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html;
  "IAM user, group, role, and policy names must be unique within the account. Names are not
  distinguished by case" (IAM API Reference, CreatePolicy, PolicyName).
- "Actions, resources, and condition keys for AWS CodePipeline",
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodepipeline.html
  (``arn:${Partition}:codepipeline:${Region}:${Account}:${PipelineName}``).
- AWS Backup API Reference, BackupJob.BackupVaultArn:
  ``arn:aws:backup:us-east-1:123456789012:backup-vault:aBackupVault``.
- AWS Step Functions API Reference, DescribeStateMachine:
  ``arn:partition:states:region:account-id:stateMachine:myStateMachine`` (unqualified) and
  ``...:stateMachine:myStateMachine/mapStateLabel`` (a map state, not the state machine).

moto cannot show any of this: it builds ARNs from the same kind of table.
"""

from __future__ import annotations

import itertools

import pytest

from domain.arn_formats import ARN_FORMATS
from domain.matching import ResourceIdentity, key_matches
from domain.rules import ExceptionFormat

ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN = ExceptionFormat.RESOURCE_ARN


def _matches(key: str, kind: str, resource_id: str, name: str | None = None) -> bool:
    identity = ResourceIdentity(kind, resource_id, name)
    return key_matches(key, ARN, identity, account_id=ACCOUNT, region=REGION)


@pytest.mark.parametrize(
    ("key", "kind", "resource_id", "name"),
    [
        (
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1",
            "AWS::EC2::SecurityGroup",
            "sg-1",
            "web",
        ),
        (f"arn:aws:iam::{ACCOUNT}:role/deploy", "AWS::IAM::Role", "AROA1", "deploy"),
        (f"arn:aws:iam::{ACCOUNT}:role/team/deploy", "AWS::IAM::Role", "AROA1", "deploy"),
        (f"arn:aws:iam::{ACCOUNT}:user/deploy", "AWS::IAM::User", "AIDA1", "deploy"),
        (
            f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:release",
            "AWS::CodePipeline::Pipeline",
            "release",
            None,
        ),
        (
            f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:aBackupVault",
            "AWS::Backup::BackupVault",
            "aBackupVault",
            "aBackupVault",
        ),
        (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:myStateMachine",
            "AWS::StepFunctions::StateMachine",
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:other",
            "myStateMachine",
        ),
    ],
)
def test_documented_arns_name_their_resource(
    key: str, kind: str, resource_id: str, name: str | None
) -> None:
    assert _matches(key, kind, resource_id, name)


@pytest.mark.parametrize(
    ("key", "kind", "resource_id", "name"),
    [
        # Another IAM type of the same name.
        (f"arn:aws:iam::{ACCOUNT}:user/deploy", "AWS::IAM::Role", "AROA1", "deploy"),
        (f"arn:aws:iam::{ACCOUNT}:group/deploy", "AWS::IAM::Role", "AROA1", "deploy"),
        (f"arn:aws:iam::{ACCOUNT}:policy/deploy", "AWS::IAM::Role", "AROA1", "deploy"),
        # A name differing only in case is the same IAM role, but ELM never guesses so.
        (f"arn:aws:iam::{ACCOUNT}:role/Deploy", "AWS::IAM::Role", "AROA1", "deploy"),
        # A `:`-separated path, or the ID with no path, is not the EC2 shape.
        (
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group:sg-1",
            "AWS::EC2::SecurityGroup",
            "sg-1",
            None,
        ),
        (f"arn:aws:ec2:{REGION}:{ACCOUNT}:sg-1", "AWS::EC2::SecurityGroup", "sg-1", None),
        # A `/`-separated path where the service documents `:`.
        (
            f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault/aBackupVault",
            "AWS::Backup::BackupVault",
            "aBackupVault",
            "aBackupVault",
        ),
        # A map state or an alias of a state machine is not the state machine.
        (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:myStateMachine/mapStateLabel",
            "AWS::StepFunctions::StateMachine",
            "smid",
            "myStateMachine",
        ),
        (
            f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:myStateMachine:PROD",
            "AWS::StepFunctions::StateMachine",
            "smid",
            "myStateMachine",
        ),
        # Another service's resource of the same name.
        (f"arn:aws:sns:{REGION}:{ACCOUNT}:release", "AWS::CodePipeline::Pipeline", "release", None),
        # A backup plan has no entry: only its recorded ARN (or an ARN ID) matches it.
        (
            f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:8F81F553",
            "AWS::Backup::BackupPlan",
            "8F81F553",
            "nightly",
        ),
    ],
)
def test_near_misses_do_not_match(key: str, kind: str, resource_id: str, name: str | None) -> None:
    assert not _matches(key, kind, resource_id, name)


def test_only_confirmed_types_are_in_the_table() -> None:
    assert "AWS::Backup::BackupPlan" not in ARN_FORMATS
    assert len(ARN_FORMATS) >= 60


def test_no_two_types_of_a_service_share_a_resource_path() -> None:
    """Two types whose paths overlap would let one type's ARN name the other's resource
    (OpenSearch and Elasticsearch domains are one resource under two type names)."""
    aliases = {frozenset({"AWS::OpenSearch::Domain", "AWS::Elasticsearch::Domain"})}
    for (a, fa), (b, fb) in itertools.combinations(ARN_FORMATS.items(), 2):
        if fa.service != fb.service or frozenset({a, b}) in aliases:
            continue
        if not fa.prefix or not fb.prefix:
            pytest.fail(f"{a} and {b}: an empty path next to another type of {fa.service}")
        assert not fa.prefix.startswith(fb.prefix), (a, b)
        assert not fb.prefix.startswith(fa.prefix), (a, b)


def test_every_path_ends_with_its_documented_separator() -> None:
    for kind, fmt in ARN_FORMATS.items():
        assert fmt.prefix == "" or fmt.prefix[-1] in "/:", kind
