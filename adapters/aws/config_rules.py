"""AWS Config's rules in one account and region: the `RuleScopes` port on DescribeConfigRules.

A rule's `Scope.ComplianceResourceTypes` lists the resource types it evaluates ("Scope", AWS
Config API Reference, https://docs.aws.amazon.com/config/latest/APIReference/API_Scope.html);
a rule without a scope, or scoped by tag alone, lists none. Every rule is described (pages
followed) rather than named: DescribeConfigRules fails the whole call for one unknown name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.aws.errors import translated

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient

__all__ = ["ConfigRuleScopes"]


class ConfigRuleScopes:
    """`RuleScopes` for the account and region of ``client``."""

    def __init__(self, client: ConfigServiceClient) -> None:
        self._client = client

    def compliance_resource_types(self) -> Mapping[str, frozenset[str]]:
        """Each rule's name and the types of its scope (empty when it lists none)."""
        found: dict[str, frozenset[str]] = {}
        token: str | None = None
        while True:
            request: dict[str, Any] = {"NextToken": token} if token else {}
            with translated("describe the AWS Config rules"):
                page = self._client.describe_config_rules(**request)
            for rule in page.get("ConfigRules", []):
                name = rule.get("ConfigRuleName")
                if name:
                    types = rule.get("Scope", {}).get("ComplianceResourceTypes", [])
                    found[name] = frozenset(types)
            token = page.get("NextToken")
            if not token:
                return found
