"""The tables for the `elm` table commands: the DynamoDB adapters, built from `Settings`.

The CLI reaches the adapters only through here, so that the composition root stays the one
place that knows them.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError

from adapters.aws import (
    AwsClients,
    ConfigRuleScopes,
    DynamoExceptionStore,
    DynamoRuleCatalog,
    MalformedItemError,
    client_config,
)
from adapters.aws.dynamo_items import (
    document_from_item,
    item_from_document,
    record_from_item,
    record_to_document,
)
from application.errors import ConflictError, TransientError
from entrypoints.composition.aws_wiring import aws_clients, exception_store, rule_catalog
from entrypoints.composition.settings import Settings

__all__ = [
    "TABLE_ERRORS",
    "ConfigRuleScopes",
    "DynamoExceptionStore",
    "DynamoRuleCatalog",
    "MalformedItemError",
    "Tables",
    "document_from_item",
    "item_from_document",
    "record_from_item",
    "record_to_document",
]

TABLE_ERRORS: tuple[type[Exception], ...] = (
    TransientError,
    ConflictError,
    MalformedItemError,
    BotoCoreError,
)
"""What a table command reports as one line: AWS failures and unreadable items."""


class Tables:
    """The configured tables, built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: AwsClients | None = None

    def _aws(self) -> AwsClients:
        if self._clients is None:
            self._clients = aws_clients(self.settings)
        return self._clients

    def store(self) -> DynamoExceptionStore:
        """`Config-ResourceExceptions`."""
        return exception_store(self.settings, self._aws())

    def catalog(self) -> DynamoRuleCatalog:
        """`Config-Master` (a command reads it once, so the cache never gets in the way)."""
        return rule_catalog(self.settings, self._aws())

    def cloudformation(self) -> Any:
        """A CloudFormation client on the configured endpoint and region."""
        return self._aws().session.client(
            "cloudformation", endpoint_url=self.settings.endpoint_url, config=client_config()
        )

    def rule_scopes(self, region: str) -> ConfigRuleScopes:
        """AWS Config's rules in ``region`` of the account the caller's credentials are in."""
        client = self._aws().session.client("config", region_name=region, config=client_config())
        return ConfigRuleScopes(client)
