"""The ARN shape of each resource type AWS Config records: its service and resource path.

One table, built from AWS's documented ARN formats: "Actions, resources, and condition keys
for AWS services" in the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
one page per service, "Resource types defined by ..." table; the types are those of "Supported
Resource Types for AWS Config"
(https://docs.aws.amazon.com/config/latest/developerguide/resource-config-reference.html).

Each entry is (service, prefix): an ARN names a resource of the type when its service is the
entry's and its resource part is ``prefix`` followed by the resource's ID or name (for IAM,
``role/`` may be followed by a path: the name is the last segment). An empty prefix means the
resource part is the name itself (``arn:aws:s3:::my-bucket``). Where the ARN carries the ID AWS
assigns (EC2, EFS, KMS keys, ...), only the resource's ID may follow the prefix. A type absent
from the table matches an ARN key only by the ARN AWS Config records for it, or a key equal to its
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
    by_id: bool = False
    """True when the ARN carries the ID AWS assigned (``security-group/sg-0abc``), never the
    name: a name after the prefix (``security-group/web``) names no resource, and names are
    not unique (two security groups called ``web`` in two VPCs), so it must not match."""


def _f(service: str, prefix: str = "", *, path: bool = False) -> ArnFormat:
    return ArnFormat(service, prefix, path)


def _id(service: str, prefix: str) -> ArnFormat:
    """A type whose ARN ends in the resource's ID, never its name."""
    return ArnFormat(service, prefix, by_id=True)


ARN_FORMATS: dict[str, ArnFormat] = {
    # Amazon EC2 (arn:${Partition}:ec2:${Region}:${Account}:<type>/<id>)
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
    # Amazon S3 (arn:${Partition}:s3:::${BucketName})
    "AWS::S3::Bucket": _f("s3"),
    # IAM (arn:${Partition}:iam::${Account}:<type>/${Path}${Name})
    "AWS::IAM::Role": _f("iam", "role/", path=True),
    "AWS::IAM::User": _f("iam", "user/", path=True),
    "AWS::IAM::Group": _f("iam", "group/", path=True),
    "AWS::IAM::Policy": _f("iam", "policy/", path=True),
    # AWS Lambda
    "AWS::Lambda::Function": _f("lambda", "function:"),
    # Amazon RDS
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
    # AWS KMS
    "AWS::KMS::Key": _id("kms", "key/"),
    "AWS::KMS::Alias": _f("kms", "alias/"),
    # Amazon ECS
    "AWS::ECS::Cluster": _f("ecs", "cluster/"),
    # (A task definition's ARN ends in family:revision; an ARN without the revision would
    # name every revision, so the type is left to the recorded ARN.)
    # Amazon EKS
    "AWS::EKS::Cluster": _f("eks", "cluster/"),
    # AWS CloudTrail
    "AWS::CloudTrail::Trail": _f("cloudtrail", "trail/"),
    # Amazon CloudWatch Logs
    "AWS::Logs::LogGroup": _f("logs", "log-group:"),
    # AWS Secrets Manager (the secret's name plus a random suffix; Config's ID is the ARN)
    "AWS::SecretsManager::Secret": _f("secretsmanager", "secret:"),
    # Amazon ECR
    "AWS::ECR::Repository": _f("ecr", "repository/"),
    # Amazon EFS
    "AWS::EFS::FileSystem": _id("elasticfilesystem", "file-system/"),
    "AWS::EFS::AccessPoint": _id("elasticfilesystem", "access-point/"),
    # Amazon CloudWatch
    "AWS::CloudWatch::Alarm": _f("cloudwatch", "alarm:"),
    # AWS CloudFormation
    "AWS::CloudFormation::Stack": _f("cloudformation", "stack/"),
    # Amazon API Gateway (arn:${Partition}:apigateway:${Region}::/restapis/${RestApiId})
    "AWS::ApiGateway::RestApi": _id("apigateway", "/restapis/"),
    "AWS::ApiGatewayV2::Api": _id("apigateway", "/apis/"),
    # Amazon CloudFront (global)
    "AWS::CloudFront::Distribution": _id("cloudfront", "distribution/"),
    # AWS WAF (regional v2 ARNs carry scope, name and id: left to the recorded ARN)
    # Amazon Kinesis
    "AWS::Kinesis::Stream": _f("kinesis", "stream/"),
    "AWS::KinesisFirehose::DeliveryStream": _f("firehose", "deliverystream/"),
    # Amazon ElastiCache
    "AWS::ElastiCache::CacheCluster": _f("elasticache", "cluster:"),
    "AWS::ElastiCache::ReplicationGroup": _f("elasticache", "replicationgroup:"),
    # Amazon Redshift
    "AWS::Redshift::Cluster": _f("redshift", "cluster:"),
    # Amazon OpenSearch Service
    "AWS::OpenSearch::Domain": _f("es", "domain/"),
    "AWS::Elasticsearch::Domain": _f("es", "domain/"),
    # AWS Step Functions
    "AWS::StepFunctions::StateMachine": _f("states", "stateMachine:"),
    # Amazon EventBridge
    # (A rule's ARN is rule/<name> on the default bus and rule/<bus>/<name> on another, so
    # rule/<name> could name a rule of another bus: left to the recorded ARN.)
    "AWS::Events::EventBus": _f("events", "event-bus/"),
    # AWS Certificate Manager
    "AWS::ACM::Certificate": _id("acm", "certificate/"),
    # AWS Systems Manager
    "AWS::SSM::Document": _f("ssm", "document/"),
    # Amazon SageMaker
    "AWS::SageMaker::NotebookInstance": _f("sagemaker", "notebook-instance/"),
    # AWS Backup
    "AWS::Backup::BackupVault": _f("backup", "backup-vault:"),
    # (A backup plan's ARN is given as both backup-plan:<id> and plan:<id> in AWS's pages:
    # left to the recorded ARN.)
    # AWS CodeBuild / CodePipeline
    "AWS::CodeBuild::Project": _f("codebuild", "project/"),
    "AWS::CodePipeline::Pipeline": _f("codepipeline"),
    # Amazon Route 53 (global)
    "AWS::Route53::HostedZone": _id("route53", "hostedzone/"),
    # AWS Auto Scaling: its ARN holds a random UUID; left to the recorded ARN.
}
