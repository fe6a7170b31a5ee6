"""ConfigRuleScopes on DescribeConfigRules: pages followed, scopes read, errors translated."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from adapters.aws import ConfigRuleScopes
from application.errors import TransientError


def _client() -> tuple[object, Stubber]:
    client = boto3.client(
        "config",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def test_every_page_is_read_and_rules_without_a_scope_list_no_types() -> None:
    client, stub = _client()
    stub.add_response(
        "describe_config_rules",
        {
            "ConfigRules": [
                {
                    "ConfigRuleName": "restricted-ssh",
                    "Scope": {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]},
                    "Source": {"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"},
                }
            ],
            "NextToken": "page-2",
        },
        {},
    )
    stub.add_response(
        "describe_config_rules",
        {
            "ConfigRules": [
                {
                    "ConfigRuleName": "tagged-only",
                    "Scope": {"TagKey": "team"},
                    "Source": {"Owner": "AWS", "SourceIdentifier": "REQUIRED_TAGS"},
                },
                {
                    "ConfigRuleName": "periodic",
                    "Source": {"Owner": "AWS", "SourceIdentifier": "IAM_PASSWORD_POLICY"},
                },
            ]
        },
        {"NextToken": "page-2"},
    )

    with stub:
        scopes = ConfigRuleScopes(client).compliance_resource_types()  # type: ignore[arg-type]

    assert scopes == {
        "restricted-ssh": frozenset({"AWS::EC2::SecurityGroup"}),
        "tagged-only": frozenset(),
        "periodic": frozenset(),
    }


def test_a_denied_call_is_a_transient_error_naming_the_call() -> None:
    client, stub = _client()
    stub.add_client_error("describe_config_rules", "AccessDeniedException", "not allowed")

    with stub, pytest.raises(TransientError, match="describe the AWS Config rules"):
        ConfigRuleScopes(client).compliance_resource_types()  # type: ignore[arg-type]
