"""The ARN shape of each resource type AWS Config records: its service and resource path.

One table, built from AWS's documented ARN formats: "Actions, resources, and condition keys
for AWS services" in the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
one page per service, "Resource types defined by ..." table, at
``https://docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html``
(written ``.../reference/list_<service>.html`` below); the types are those of "Supported
Resource Types for AWS Config"
(https://docs.aws.amazon.com/config/latest/developerguide/resource-config-reference.html).

Each entry is (service, prefix): an ARN names a resource of the type when its service is the
entry's and its resource part is ``prefix`` followed by the resource's ID or name (for IAM,
``role/`` may be followed by a path: the name is the last segment). An empty prefix means the
resource part is the name itself (``arn:aws:s3:::my-bucket``). A type absent from the table
matches an ARN key only by the ARN AWS Config records for it, or a key equal to its
``resourceId`` (load balancers: their ``resourceId`` is the full ARN).
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["ARN_FORMATS", "ArnFormat"]


@frozen
class ArnFormat:
    """How an ARN of one resource type looks: service, and resource-part prefix."""

    service: str
    prefix: str
    path: bool = False
    """True when a path may sit between the prefix and the name (IAM: ``role/team/app``)."""
    suffix: str = ""
    """A trailing part the ARN may carry after the name (a log group's ``:*``)."""
    by_id: bool = False
    """True when the ARN carries the resource's ID, never its name: the part after the
    prefix must then equal Config's resourceId. Names of these types need not be unique
    (security groups named ``web`` in two VPCs, hosted zones of one domain), so a name in
    the ARN's place must not name one of them."""


def _f(service: str, prefix: str = "", *, path: bool = False, suffix: str = "") -> ArnFormat:
    return ArnFormat(service, prefix, path, suffix)


def _id(service: str, prefix: str) -> ArnFormat:
    return ArnFormat(service, prefix, by_id=True)


ARN_FORMATS: dict[str, ArnFormat] = {
    # Amazon EC2 (arn:${Partition}:ec2:${Region}:${Account}:<type>/<id>), "Actions, resources,
    # and condition keys for Amazon EC2", .../reference/list_amazonec2.html: e.g.
    # security-group/${SecurityGroupId}. Config's resourceId is the ID (sg-..., vpc-...).
    "AWS::EC2::Instance": _id("ec2", "instance/"),
    "AWS::EC2::SecurityGroup": _id("ec2", "security-group/"),
    "AWS::EC2::Volume": _id("ec2", "volume/"),
    "AWS::EC2::VPC": _id("ec2", "vpc/"),
    "AWS::EC2::Subnet": _id("ec2", "subnet/"),
    "AWS::EC2::NetworkInterface": _id("ec2", "network-interface/"),
    "AWS::EC2::NetworkAcl": _id("ec2", "network-acl/"),
    "AWS::EC2::RouteTable": _id("ec2", "route-table/"),
    "AWS::EC2::InternetGateway": _id("ec2", "internet-gateway/"),
    "AWS::EC2::NatGateway": _id("ec2", "natgateway/"),
    "AWS::EC2::EIP": _id("ec2", "elastic-ip/"),
    "AWS::EC2::CustomerGateway": _id("ec2", "customer-gateway/"),
    "AWS::EC2::VPNGateway": _id("ec2", "vpn-gateway/"),
    "AWS::EC2::VPNConnection": _id("ec2", "vpn-connection/"),
    "AWS::EC2::VPCEndpoint": _id("ec2", "vpc-endpoint/"),
    "AWS::EC2::VPCPeeringConnection": _id("ec2", "vpc-peering-connection/"),
    "AWS::EC2::TransitGateway": _id("ec2", "transit-gateway/"),
    "AWS::EC2::TransitGatewayAttachment": _id("ec2", "transit-gateway-attachment/"),
    "AWS::EC2::TransitGatewayRouteTable": _id("ec2", "transit-gateway-route-table/"),
    "AWS::EC2::LaunchTemplate": _id("ec2", "launch-template/"),
    "AWS::EC2::FlowLog": _id("ec2", "vpc-flow-log/"),
    "AWS::EC2::DHCPOptions": _id("ec2", "dhcp-options/"),
    "AWS::EC2::EgressOnlyInternetGateway": _id("ec2", "egress-only-internet-gateway/"),
    "AWS::EC2::PrefixList": _id("ec2", "prefix-list/"),
    # Amazon S3 (arn:aws:s3:::bucket_name, objects arn:aws:s3:::bucket_name/key_name: "An
    # Amazon S3 ARN excludes the AWS Region and namespace", Amazon S3 User Guide, "Amazon S3
    # resource ARN format"; an object's ARN does not name its bucket)
    "AWS::S3::Bucket": _f("s3"),
    # IAM (arn:${Partition}:iam::${Account}:<type>/${Path}${Name}), "Actions, resources, and
    # condition keys for AWS Identity and Access Management (IAM)",
    # .../reference/list_awsidentityandaccessmanagementiam.html. Config's resourceId is the
    # unique ID (AROA..., AIDA..., AGPA..., ANPA...), the name is its resourceName. "IAM user,
    # group, role, and policy names must be unique within the account. Names are not
    # distinguished by case" (IAM API Reference, CreatePolicy / CreateRole: PolicyName,
    # RoleName): so the last path segment names one resource; a name differing only in case
    # is not matched (a missed close, never a wrong one).
    "AWS::IAM::Role": _f("iam", "role/", path=True),
    "AWS::IAM::User": _f("iam", "user/", path=True),
    "AWS::IAM::Group": _f("iam", "group/", path=True),
    "AWS::IAM::Policy": _f("iam", "policy/", path=True),
    # AWS Lambda (function:<name>; a qualified ``function:<name>:<alias>`` does not match)
    "AWS::Lambda::Function": _f("lambda", "function:"),
    # Amazon RDS (arn:aws:rds:<region>:<account>:<resourcetype>:<name>, "Constructing an ARN for
    # Amazon RDS", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.ARN.Constructing.html:
    # db:my-mysql-instance-1, cluster:my-aurora-cluster-1, es:my-subscription). Config's
    # resourceId of a DB instance is its DbiResourceId (db-...), the identifier its name.
    "AWS::RDS::DBInstance": _f("rds", "db:"),
    "AWS::RDS::DBCluster": _f("rds", "cluster:"),
    "AWS::RDS::DBSnapshot": _f("rds", "snapshot:"),
    "AWS::RDS::DBClusterSnapshot": _f("rds", "cluster-snapshot:"),
    "AWS::RDS::DBSubnetGroup": _f("rds", "subgrp:"),
    "AWS::RDS::DBSecurityGroup": _f("rds", "secgrp:"),
    "AWS::RDS::EventSubscription": _f("rds", "es:"),
    # Elastic Load Balancing: Config's resourceId of a v2 load balancer is its full ARN,
    # matched as "key equal to resourceId"; the classic one is named by its name.
    "AWS::ElasticLoadBalancing::LoadBalancer": _f("elasticloadbalancing", "loadbalancer/"),
    # Amazon DynamoDB
    "AWS::DynamoDB::Table": _f("dynamodb", "table/"),
    # Amazon SNS (arn:${Partition}:sns:${Region}:${Account}:${TopicName})
    "AWS::SNS::Topic": _f("sns"),
    # Amazon SQS (arn:${Partition}:sqs:${Region}:${Account}:${QueueName})
    "AWS::SQS::Queue": _f("sqs"),
    # AWS KMS (Key ARN arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab,
    # Alias ARN arn:aws:kms:us-east-2:111122223333:alias/ExampleAlias: AWS KMS API Reference,
    # DescribeKey, KeyId)
    "AWS::KMS::Key": _id("kms", "key/"),
    "AWS::KMS::Alias": _f("kms", "alias/"),
    # Amazon ECS (arn:aws:ecs:us-west-2:123456789123:cluster/my-cluster; task definitions are
    # arn:aws:ecs:us-east-1:111122223333:task-definition/TaskFamilyName:2, Amazon ECS API
    # Reference, RunTask, taskDefinition)
    "AWS::ECS::Cluster": _f("ecs", "cluster/"),
    # No task definition entry: its ARN ends ``<family>:<revision>``, and ``<family>`` alone
    # (a name every revision shares) must never name one deleted revision.
    # Amazon EKS
    "AWS::EKS::Cluster": _f("eks", "cluster/"),
    # AWS CloudTrail
    "AWS::CloudTrail::Trail": _f("cloudtrail", "trail/"),
    # Amazon CloudWatch Logs (arn:aws:logs:region:account-id:log-group:log_group_name, Amazon
    # Route 53 API Reference, CreateQueryLoggingConfig; DescribeLogGroups and Step Functions'
    # CloudWatchLogsLogGroup add ``:*``). A log group's name holds no ``:``, so ``:*`` is
    # never part of it.
    "AWS::Logs::LogGroup": _f("logs", "log-group:", suffix=":*"),
    # AWS Secrets Manager: no entry. "The ARN includes the name of the secret followed by six
    # random characters" (Secrets Manager API Reference, CreateSecret), so ``secret:<name>``
    # is no secret's ARN, and a secret re-created under the same name has another one. A key
    # matches only as the full ARN (Config's resourceId, or the recorded ARN).
    # Amazon ECR
    "AWS::ECR::Repository": _f("ecr", "repository/"),
    # Amazon EFS
    "AWS::EFS::FileSystem": _id("elasticfilesystem", "file-system/"),
    "AWS::EFS::AccessPoint": _id("elasticfilesystem", "access-point/"),
    # Amazon CloudWatch
    "AWS::CloudWatch::Alarm": _f("cloudwatch", "alarm:"),
    # AWS CloudFormation: no entry. A stack's ARN is ``stack/<name>/<unique id>``, so
    # ``stack/<name>`` is no stack's ARN and would also name a stack re-created under that
    # name; a key matches only as the full ARN (Config's resourceId, or the recorded ARN).
    # Amazon API Gateway (arn:partition:apigateway:region::/restapis/api-id and
    # ...::/apis/api-id: "API Gateway Amazon Resource Name (ARN) reference",
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html)
    "AWS::ApiGateway::RestApi": _id("apigateway", "/restapis/"),
    "AWS::ApiGatewayV2::Api": _id("apigateway", "/apis/"),
    # Amazon CloudFront (arn:aws:cloudfront::123456789012:distribution/EDFDVBD632BHDS5: no
    # region, an account; CloudFront API Reference, DistributionSummary.ARN)
    "AWS::CloudFront::Distribution": _id("cloudfront", "distribution/"),
    # AWS WAF (regional v2 ARNs carry scope, name and id: left to the recorded ARN)
    # Amazon Kinesis
    "AWS::Kinesis::Stream": _f("kinesis", "stream/"),
    "AWS::KinesisFirehose::DeliveryStream": _f("firehose", "deliverystream/"),
    # Amazon ElastiCache: left to the recorded ARN (no documented example found to pin).
    # Amazon Redshift (arn:aws:redshift:us-east-2:123456789:cluster:t1, Amazon Redshift API
    # Reference, TaggedResource.ResourceName)
    "AWS::Redshift::Cluster": _f("redshift", "cluster:"),
    # Amazon OpenSearch Service
    "AWS::OpenSearch::Domain": _f("es", "domain/"),
    "AWS::Elasticsearch::Domain": _f("es", "domain/"),
    # AWS Step Functions (arn:partition:states:region:account-id:stateMachine:myStateMachine,
    # Step Functions API Reference, DescribeStateMachine; a qualified ARN ``...:PROD`` or
    # ``.../mapStateLabel`` names a version, alias or map state: it does not match.)
    "AWS::StepFunctions::StateMachine": _f("states", "stateMachine:"),
    # Amazon EventBridge
    # No rule entry: a rule on a custom bus is ``rule/<bus>/<name>``, and rule names are
    # unique per bus only, so ``rule/<name>`` (the default bus) must not name another bus's.
    "AWS::Events::EventBus": _f("events", "event-bus/"),
    # AWS Certificate Manager
    "AWS::ACM::Certificate": _id("acm", "certificate/"),
    # AWS Systems Manager
    "AWS::SSM::Document": _f("ssm", "document/"),
    # Amazon SageMaker
    "AWS::SageMaker::NotebookInstance": _f("sagemaker", "notebook-instance/"),
    # AWS Backup
    # (arn:aws:backup:us-east-1:123456789012:backup-vault:aBackupVault, AWS Backup API
    # Reference, BackupJob.BackupVaultArn.) Backup plans are left to the recorded ARN: the
    # same reference shows ``plan:<id>`` where the authorization reference shows
    # ``backup-plan:<id>``.
    "AWS::Backup::BackupVault": _f("backup", "backup-vault:"),
    # AWS CodeBuild / CodePipeline
    "AWS::CodeBuild::Project": _f("codebuild", "project/"),
    # (arn:${Partition}:codepipeline:${Region}:${Account}:${PipelineName}, "Actions,
    # resources, and condition keys for AWS CodePipeline", .../reference/list_awscodepipeline.html)
    "AWS::CodePipeline::Pipeline": _f("codepipeline"),
    # Amazon Route 53 (arn:${Partition}:route53:::hostedzone/${Id}: neither region nor
    # account; Config's resourceId is the zone ID)
    "AWS::Route53::HostedZone": _id("route53", "hostedzone/"),
    # AWS Auto Scaling: its ARN holds a random UUID; left to the recorded ARN.
}
