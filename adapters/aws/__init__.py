"""The AWS adapters: DynamoDB store and catalog, and the client factory they share."""

from adapters.aws.clients import AwsClients, Credentials, client_config
from adapters.aws.dynamo_items import MalformedItemError
from adapters.aws.dynamo_rules import DynamoRuleCatalog
from adapters.aws.dynamo_store import DynamoExceptionStore
from adapters.aws.tables import create_tables

__all__ = [
    "AwsClients",
    "Credentials",
    "DynamoExceptionStore",
    "DynamoRuleCatalog",
    "MalformedItemError",
    "client_config",
    "create_tables",
]
