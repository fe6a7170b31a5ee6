"""The two tables of docs/behaviour.md, created for tests and local use.

`infra/elm-tables.yaml` creates them in a real account; the key schemas here must stay
identical to the template's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.aws.dynamo_items import EXCEPTIONS_HASH_KEY, EXCEPTIONS_RANGE_KEY, RULES_HASH_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["create_tables"]


def create_tables(client: DynamoDBClient, exceptions_table: str, rules_table: str) -> None:
    """Create both tables (on-demand billing, TTL on `TTL`) and wait until they are active."""
    client.create_table(
        TableName=exceptions_table,
        KeySchema=[
            {"AttributeName": EXCEPTIONS_HASH_KEY, "KeyType": "HASH"},
            {"AttributeName": EXCEPTIONS_RANGE_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": EXCEPTIONS_HASH_KEY, "AttributeType": "S"},
            {"AttributeName": EXCEPTIONS_RANGE_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.create_table(
        TableName=rules_table,
        KeySchema=[{"AttributeName": RULES_HASH_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": RULES_HASH_KEY, "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    waiter = client.get_waiter("table_exists")
    for name in (exceptions_table, rules_table):
        waiter.wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(
        TableName=exceptions_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "TTL"},
    )
