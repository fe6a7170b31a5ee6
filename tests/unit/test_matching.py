"""Which exception keys name a deleted resource (docs/matching.md): exact, never a substring."""

from __future__ import annotations

import pytest

from domain.arn_formats import ARN_FORMATS
from domain.matching import Arn, ResourceIdentity, key_matches, type_matches
from domain.rules import ExceptionFormat

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"


SG = "AWS::EC2::SecurityGroup"


def _matches(
    key: str,
    fmt: ExceptionFormat,
    resource_id: str,
    name: str | None = None,
    resource_type: str = SG,
) -> bool:
    identity = ResourceIdentity(resource_type, resource_id, name)
    return key_matches(key, fmt, identity, account_id=ACCOUNT, region=REGION)


class TestArnParse:
    @pytest.mark.parametrize(
        ("text", "parts"),
        [
            ("arn:aws:s3:::my-bucket", ("aws", "s3", "", "", "my-bucket")),
            (
                f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1",
                ("aws", "ec2", REGION, ACCOUNT, "security-group/sg-1"),
            ),
            (
                f"arn:aws:rds:{REGION}:{ACCOUNT}:db:my-db",
                ("aws", "rds", REGION, ACCOUNT, "db:my-db"),
            ),
            (
                f"arn:aws:iam::{ACCOUNT}:role/team/app-role",
                ("aws", "iam", "", ACCOUNT, "role/team/app-role"),
            ),
            (
                f"arn:aws-us-gov:ec2:us-gov-west-1:{ACCOUNT}:volume/vol-1",
                ("aws-us-gov", "ec2", "us-gov-west-1", ACCOUNT, "volume/vol-1"),
            ),
            (
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn:*",
                ("aws", "logs", REGION, ACCOUNT, "log-group:/aws/lambda/fn:*"),
            ),
        ],
    )
    def test_well_formed_arns_split_into_their_parts(
        self, text: str, parts: tuple[str, ...]
    ) -> None:
        arn = Arn.parse(text)
        assert arn is not None
        assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == parts

    @pytest.mark.parametrize(
        "text",
        [
            "my-bucket",
            "arn:aws:s3::my-bucket",  # five parts
            "ARN:aws:s3:::my-bucket",
            "urn:aws:s3:::my-bucket",
            "arn::s3:::my-bucket",  # no partition
            "arn:aws::::my-bucket",  # no service
            "arn:aws:s3:::",  # no resource
            f"arn:aws:ec2:{REGION}:1111:volume/vol-1",  # short account
            f"arn:aws:ec2:{REGION}:11112222333x:volume/vol-1",
            "arn:aws:ec2:eu-west-1:" + "\u0661" * 12 + ":volume/vol-1",  # non-ASCII digits
            "",
        ],
    )
    def test_malformed_arns_are_refused(self, text: str) -> None:
        assert Arn.parse(text) is None

    @pytest.mark.parametrize(
        ("text", "name"),
        [
            ("arn:aws:s3:::my-bucket", "my-bucket"),
            (f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1", "sg-1"),
            (f"arn:aws:iam::{ACCOUNT}:role/team/app-role", "app-role"),
            (f"arn:aws:rds:{REGION}:{ACCOUNT}:db:my-db", "my-db"),
            (f"arn:aws:sns:{REGION}:{ACCOUNT}:topic-name", "topic-name"),
            # A '/' anywhere wins over later ':' separators.
            (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/fn", "fn"),
            (f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/", ""),
        ],
    )
    def test_resource_name_is_after_the_last_slash_else_the_last_colon(
        self, text: str, name: str
    ) -> None:
        arn = Arn.parse(text)
        assert arn is not None
        assert arn.resource_name == name


class TestIdKeys:
    def test_key_equal_to_the_resource_id_matches(self) -> None:
        assert _matches("sg-0abc123", ExceptionFormat.RESOURCE_ID, "sg-0abc123")

    def test_key_equal_to_the_resource_name_matches(self) -> None:
        assert _matches("web-sg", ExceptionFormat.RESOURCE_ID, "sg-0abc123", "web-sg")

    @pytest.mark.parametrize(
        ("key", "resource_id"),
        [
            ("db", "db-prod"),
            ("db-prod", "db"),
            ("sg-0abc12", "sg-0abc123"),
            ("SG-0ABC123", "sg-0abc123"),
            (" sg-0abc123", "sg-0abc123"),
            ("sg-0abc123,sg-2", "sg-0abc123"),  # a composite key is not an ID key
        ],
    )
    def test_near_misses_do_not_match(self, key: str, resource_id: str) -> None:
        assert not _matches(key, ExceptionFormat.RESOURCE_ID, resource_id)

    def test_near_miss_of_the_name_does_not_match(self) -> None:
        assert not _matches("web", ExceptionFormat.RESOURCE_ID, "sg-1", "web-sg")

    def test_no_name_means_only_the_id_can_match(self) -> None:
        identity = ResourceIdentity("AWS::Any::Thing", "sg-1")
        assert not identity.is_named("")
        assert identity.is_named("sg-1")

    def test_an_arn_key_under_an_id_rule_is_compared_as_text(self) -> None:
        key = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1"
        assert not _matches(key, ExceptionFormat.RESOURCE_ID, "sg-1")


class TestArnKeys:
    @pytest.mark.parametrize(
        "key",
        [
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1",
            f"arn:aws:ec2::{ACCOUNT}:security-group/sg-1",
            f"arn:aws:ec2:{REGION}::security-group/sg-1",
            "arn:aws:ec2:::security-group/sg-1",
        ],
    )
    def test_arn_of_the_resource_with_the_events_or_empty_account_and_region_matches(
        self, key: str
    ) -> None:
        assert _matches(key, ExceptionFormat.RESOURCE_ARN, "sg-1")

    @pytest.mark.parametrize(
        "key",
        [
            f"arn:aws:ec2:{REGION}:{OTHER_ACCOUNT}:security-group/sg-1",
            f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-1",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-10",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/xsg-1",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:sg-1/other",
            # The resource path must be the security group's own.
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:sg-1",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/sg-1",
            "sg-1",
            "arn:aws:ec2:eu-west-1:1:security-group/sg-1",
            # eu-west-1 is in the aws partition: an aws-cn ARN names another resource.
            f"arn:aws-cn:ec2:{REGION}:{ACCOUNT}:security-group/sg-1",
        ],
    )
    def test_other_account_region_resource_or_malformed_arn_does_not_match(self, key: str) -> None:
        assert not _matches(key, ExceptionFormat.RESOURCE_ARN, "sg-1")

    def test_s3_bucket_arn_has_neither_account_nor_region(self) -> None:
        bucket = "AWS::S3::Bucket"
        assert _matches(
            "arn:aws:s3:::my-bucket", ExceptionFormat.RESOURCE_ARN, "my-bucket", None, bucket
        )
        assert not _matches(
            "arn:aws:s3:::my-bucket-logs", ExceptionFormat.RESOURCE_ARN, "my-bucket", None, bucket
        )

    def test_db_does_not_match_db_prod(self) -> None:
        arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:db-prod"
        db = "AWS::RDS::DBInstance"
        assert not _matches(arn, ExceptionFormat.RESOURCE_ARN, "db", None, db)
        assert _matches(arn, ExceptionFormat.RESOURCE_ARN, "db-prod", None, db)

    def test_resource_part_equal_to_the_resource_name_matches(self) -> None:
        # IAM roles: Config's resourceId is an opaque ID, the ARN carries the role name.
        arn = f"arn:aws:iam::{ACCOUNT}:role/team/app-role"
        role = "AWS::IAM::Role"
        assert _matches(arn, ExceptionFormat.RESOURCE_ARN, "AROAEXAMPLEID", "app-role", role)
        assert not _matches(arn, ExceptionFormat.RESOURCE_ARN, "AROAEXAMPLEID", None, role)
        assert not _matches(arn, ExceptionFormat.RESOURCE_ARN, "AROAEXAMPLEID", "app", role)


class TestTypeSafeArnKeys:
    """An ARN carries its type: its service and resource path must be the resource's."""

    def test_a_user_arn_does_not_name_a_role_of_the_same_name(self) -> None:
        key = f"arn:aws:iam::{ACCOUNT}:user/deploy"
        assert not _matches(key, ExceptionFormat.RESOURCE_ARN, "AROA1", "deploy", "AWS::IAM::Role")
        assert _matches(key, ExceptionFormat.RESOURCE_ARN, "AIDA1", "deploy", "AWS::IAM::User")

    def test_a_bucket_arn_does_not_name_a_function_of_the_same_name(self) -> None:
        fn = "AWS::Lambda::Function"
        assert not _matches("arn:aws:s3:::logs", ExceptionFormat.RESOURCE_ARN, "logs", None, fn)
        key = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:logs"
        assert _matches(key, ExceptionFormat.RESOURCE_ARN, "logs", None, fn)
        assert not _matches(key, ExceptionFormat.RESOURCE_ARN, "logs", None, "AWS::S3::Bucket")

    def test_a_load_balancer_arn_equal_to_its_resource_id_matches(self) -> None:
        # AWS Config's resourceId of an AWS::ElasticLoadBalancingV2::LoadBalancer is its ARN.
        lb = (
            f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/50dc6c495c0c9188"
        )
        kind = "AWS::ElasticLoadBalancingV2::LoadBalancer"
        assert _matches(lb, ExceptionFormat.RESOURCE_ARN, lb, "web", kind)
        assert not _matches(lb, ExceptionFormat.RESOURCE_ARN, lb + "0", "web", kind)

    def test_a_type_without_an_arn_shape_matches_only_by_recorded_arn_or_id(self) -> None:
        key = f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/acl/1234"
        kind = "AWS::WAFv2::WebACL"
        assert not key_matches(
            key,
            ExceptionFormat.RESOURCE_ARN,
            ResourceIdentity(kind, "1234", "acl"),
            account_id=ACCOUNT,
            region=REGION,
        )
        assert key_matches(
            key,
            ExceptionFormat.RESOURCE_ARN,
            ResourceIdentity(kind, "1234", "acl", arn=key),
            account_id=ACCOUNT,
            region=REGION,
        )

    @pytest.mark.parametrize(
        ("kind", "key", "resource_id", "name"),
        [
            (SG, f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/web", "sg-0abc", "web"),
            ("AWS::EC2::Volume", f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/data", "vol-1", "data"),
            (
                "AWS::EFS::FileSystem",
                f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/home",
                "fs-0123",
                "home",
            ),
            ("AWS::KMS::Key", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/app", "1234abcd-12ab", "app"),
        ],
    )
    def test_an_arn_that_carries_an_id_never_matches_by_name(
        self, kind: str, key: str, resource_id: str, name: str
    ) -> None:
        # The ARN of these types ends in the ID AWS assigns ("Resource types defined by
        # Amazon EC2", Service Authorization Reference: security-group/${SecurityGroupId});
        # a name there names no resource, and a security group's name is unique only in its
        # VPC.
        assert not _matches(key, ExceptionFormat.RESOURCE_ARN, resource_id, name, kind)
        by_id = key.rsplit("/", 1)[0] + "/" + resource_id
        assert _matches(by_id, ExceptionFormat.RESOURCE_ARN, resource_id, name, kind)

    @pytest.mark.parametrize(
        ("kind", "key", "resource_id", "name"),
        [
            # rule/<name> is a rule of the default bus; a deleted rule of that name may be
            # another bus's (rule/<bus>/<name>).
            (
                "AWS::Events::Rule",
                f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly",
                "x",
                "nightly",
            ),
            # family without a revision would name every revision of the family.
            (
                "AWS::ECS::TaskDefinition",
                f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web",
                "web:3",
                "web",
            ),
        ],
    )
    def test_ambiguous_shapes_match_only_by_the_recorded_arn(
        self, kind: str, key: str, resource_id: str, name: str
    ) -> None:
        assert kind not in ARN_FORMATS
        assert not _matches(key, ExceptionFormat.RESOURCE_ARN, resource_id, name, kind)

    def test_a_recorded_arn_still_needs_the_events_account(self) -> None:
        key = f"arn:aws:wafv2:{REGION}:{OTHER_ACCOUNT}:regional/webacl/acl/1234"
        identity = ResourceIdentity("AWS::WAFv2::WebACL", "1234", "acl", arn=key)
        assert not key_matches(
            key, ExceptionFormat.RESOURCE_ARN, identity, account_id=ACCOUNT, region=REGION
        )


class TestTypes:
    @pytest.mark.parametrize(
        ("record_type", "rule_types", "resource_type", "expected"),
        [
            (None, frozenset(), "AWS::S3::Bucket", True),
            ("AWS::S3::Bucket", frozenset(), "AWS::S3::Bucket", True),
            ("AWS::S3::Bucket", frozenset(), "AWS::Lambda::Function", False),
            (None, frozenset({"AWS::S3::Bucket"}), "AWS::Lambda::Function", False),
            (
                None,
                frozenset({"AWS::S3::Bucket", "AWS::Lambda::Function"}),
                "AWS::Lambda::Function",
                True,
            ),
            (
                "AWS::S3::Bucket",
                frozenset({"AWS::S3::Bucket", "AWS::Lambda::Function"}),
                "AWS::Lambda::Function",
                False,
            ),
        ],
    )
    def test_record_and_rule_types_must_admit_the_resource(
        self,
        record_type: str | None,
        rule_types: frozenset[str],
        resource_type: str,
        expected: bool,
    ) -> None:
        assert type_matches(record_type, rule_types, resource_type) is expected


def test_the_arn_table_covers_the_common_types() -> None:
    assert len(ARN_FORMATS) >= 60
    assert ARN_FORMATS["AWS::IAM::Role"].service == "iam"
    assert ARN_FORMATS["AWS::S3::Bucket"].prefix == ""
    assert ARN_FORMATS["AWS::Lambda::Function"].prefix == "function:"
