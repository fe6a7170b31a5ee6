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
- Amazon S3 User Guide, "Amazon S3 resource ARN format" (``arn:aws:s3:::bucket_name`` and
  ``arn:aws:s3:::bucket_name/key_name``); CloudFront API Reference, DistributionSummary.ARN
  (``arn:aws:cloudfront::123456789012:distribution/EDFDVBD632BHDS5``); Route 53 hosted zone
  ``arn:${Partition}:route53:::hostedzone/${Id}``.
- AWS Backup API Reference, BackupJob.BackupVaultArn:
  ``arn:aws:backup:us-east-1:123456789012:backup-vault:aBackupVault``.
- "Constructing an ARN for Amazon RDS",
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.ARN.Constructing.html
  (``arn:aws:rds:us-east-2:123456789012:db:my-mysql-instance-1``).
- "API Gateway Amazon Resource Name (ARN) reference",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html
  (``arn:partition:apigateway:region::/apis/api-id``).
- AWS KMS API Reference, DescribeKey, KeyId (key and alias ARNs); Amazon ECS API Reference,
  RunTask (``task-definition/TaskFamilyName:2``); Amazon Redshift API Reference,
  TaggedResource (``cluster:t1``); Secrets Manager API Reference, CreateSecret ("the name of
  the secret followed by six random characters"); Amazon Route 53 API Reference,
  CreateQueryLoggingConfig (``log-group:log_group_name``) and Step Functions'
  CloudWatchLogsLogGroup ("must end with ``:*``").
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
        (
            f"arn:aws:rds:{REGION}:{ACCOUNT}:db:my-mysql-instance-1",
            "AWS::RDS::DBInstance",
            "db-ABCDEFGHIJKL",
            "my-mysql-instance-1",
        ),
        (
            f"arn:aws:apigateway:{REGION}::/apis/a1b2c3",
            "AWS::ApiGatewayV2::Api",
            "a1b2c3",
            "web",
        ),
        (
            f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3",
            "AWS::ApiGateway::RestApi",
            "a1b2c3",
            "web",
        ),
        (
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "AWS::KMS::Key",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            None,
        ),
        (
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/my-cluster",
            "AWS::ECS::Cluster",
            "c",
            "my-cluster",
        ),
        (f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:t1", "AWS::Redshift::Cluster", "t1", None),
        (
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/my/group",
            "AWS::Logs::LogGroup",
            "/aws/my/group",
            None,
        ),
        (
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/my/group:*",
            "AWS::Logs::LogGroup",
            "/aws/my/group",
            None,
        ),
        ("arn:aws:s3:::examplebucket", "AWS::S3::Bucket", "examplebucket", "examplebucket"),
        (
            f"arn:aws:cloudfront::{ACCOUNT}:distribution/EDFDVBD632BHDS5",
            "AWS::CloudFront::Distribution",
            "EDFDVBD632BHDS5",
            None,
        ),
        (
            "arn:aws:route53:::hostedzone/Z148QEXAMPLE8V",
            "AWS::Route53::HostedZone",
            "Z148QEXAMPLE8V",
            "example.com.",
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
        # A key ARN does not name an alias, nor an alias ARN a key.
        (
            f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ExampleAlias",
            "AWS::KMS::Key",
            "ExampleAlias",
            None,
        ),
        # A task definition's family is shared by all its revisions.
        (
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/TaskFamilyName",
            "AWS::ECS::TaskDefinition",
            "TaskFamilyName:2",
            "TaskFamilyName",
        ),
        # A stack's ARN ends with a unique ID: its name alone is no stack's ARN.
        (
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/web",
            "AWS::CloudFormation::Stack",
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/web/1a2b3c4d",
            "web",
        ),
        # A default-bus rule does not name a custom bus's rule of the same name.
        (
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly",
            "AWS::Events::Rule",
            "orders|nightly",
            "nightly",
        ),
        # An RDS cluster and a Redshift cluster of the same name.
        (f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:t1", "AWS::Redshift::Cluster", "t1", None),
        (f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:t1", "AWS::RDS::DBCluster", "c-1", "t1"),
        # Only ``:*`` may follow a log group's name, and only once.
        (
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/my/group:*:*",
            "AWS::Logs::LogGroup",
            "/aws/my/group",
            None,
        ),
        (
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/my/group:log-stream:s",
            "AWS::Logs::LogGroup",
            "/aws/my/group",
            None,
        ),
        # A secret's ARN carries six random characters after the name: the name alone is
        # not the secret (a re-created secret of the same name has another ARN).
        (
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-pass",
            "AWS::SecretsManager::Secret",
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-pass-AbCdEf",
            "db-pass",
        ),
        # A stage of the API is not the API.
        (
            f"arn:aws:apigateway:{REGION}::/apis/a1b2c3/stages/prod",
            "AWS::ApiGatewayV2::Api",
            "a1b2c3",
            None,
        ),
        # An object's ARN does not name its bucket.
        (
            "arn:aws:s3:::examplebucket/developers/design_info.doc",
            "AWS::S3::Bucket",
            "examplebucket",
            "examplebucket",
        ),
        # A streaming distribution is not a distribution.
        (
            f"arn:aws:cloudfront::{ACCOUNT}:streaming-distribution/EDFDVBD632BHDS5",
            "AWS::CloudFront::Distribution",
            "EDFDVBD632BHDS5",
            None,
        ),
        # A hosted zone is named by its ID, not by its domain: two zones may serve one domain.
        (
            "arn:aws:route53:::hostedzone/example.com.",
            "AWS::Route53::HostedZone",
            "Z148QEXAMPLE8V",
            "example.com.",
        ),
        # A security group's ARN carries its ID: its name (not unique: one per VPC) in the
        # ID's place names no group.
        (
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/web",
            "AWS::EC2::SecurityGroup",
            "sg-1",
            "web",
        ),
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


def test_a_secret_matches_by_its_full_arn() -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-pass-AbCdEf"
    kind = "AWS::SecretsManager::Secret"
    assert _matches(arn, kind, arn, "db-pass")
    assert not _matches(arn[:-1], kind, arn, "db-pass")


def test_only_confirmed_types_are_in_the_table() -> None:
    for kind in (
        "AWS::Backup::BackupPlan",
        "AWS::SecretsManager::Secret",
        "AWS::CloudFormation::Stack",
        "AWS::ECS::TaskDefinition",
        "AWS::Events::Rule",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
    ):
        assert kind not in ARN_FORMATS
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


def test_types_whose_arn_carries_the_id_match_by_id_only() -> None:
    for kind in ("AWS::EC2::SecurityGroup", "AWS::EC2::Instance", "AWS::Route53::HostedZone"):
        assert ARN_FORMATS[kind].by_id, kind
    for kind in ("AWS::IAM::Role", "AWS::Lambda::Function", "AWS::S3::Bucket"):
        assert not ARN_FORMATS[kind].by_id, kind


def test_every_path_ends_with_its_documented_separator() -> None:
    for kind, fmt in ARN_FORMATS.items():
        assert fmt.prefix == "" or fmt.prefix[-1] in "/:", kind
