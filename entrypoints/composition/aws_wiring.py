"""The DynamoDB adapters built from `Settings`: shared by the CLI and the composition root."""

from __future__ import annotations

import boto3

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog
from adapters.aws.dynamo_rules import DEFAULT_CACHE_SECONDS
from entrypoints.composition.settings import Settings

__all__ = ["aws_clients", "exception_store", "rule_catalog"]


def aws_clients(settings: Settings, session: boto3.Session | None = None) -> AwsClients:
    """The client factory; ``AWS_ENDPOINT_URL`` (in ``settings``) points it at a local AWS."""
    return AwsClients(session, endpoint_url=settings.endpoint_url)


def exception_store(settings: Settings, clients: AwsClients) -> DynamoExceptionStore:
    """`Config-ResourceExceptions` as named by ``ELM_EXCEPTIONS_TABLE``."""
    return DynamoExceptionStore(clients.dynamodb(), settings.exceptions_table)


def rule_catalog(
    settings: Settings, clients: AwsClients, *, cache_seconds: float = DEFAULT_CACHE_SECONDS
) -> DynamoRuleCatalog:
    """`Config-Master` as named by ``ELM_RULES_TABLE``, cached for ``cache_seconds``."""
    return DynamoRuleCatalog(clients.dynamodb(), settings.rules_table, cache_seconds=cache_seconds)
