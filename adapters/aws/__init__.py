"""The AWS adapters: DynamoDB store and catalog, AWS Config inventory, and their client factory."""

from adapters.aws.clients import AwsClients, Credentials, client_config
from adapters.aws.config_inventory import ConfigServiceInventory
from adapters.aws.config_rules import ConfigRuleScopes
from adapters.aws.dynamo_items import MalformedItemError
from adapters.aws.dynamo_rules import DynamoRuleCatalog
from adapters.aws.dynamo_store import DynamoExceptionStore
from adapters.aws.event_publisher import EventBridgePublisher
from adapters.aws.tables import create_tables

__all__ = [
    "AwsClients",
    "ConfigRuleScopes",
    "ConfigServiceInventory",
    "Credentials",
    "DynamoExceptionStore",
    "DynamoRuleCatalog",
    "EventBridgePublisher",
    "MalformedItemError",
    "client_config",
    "create_tables",
]
