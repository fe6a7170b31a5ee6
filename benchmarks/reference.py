"""The scan-based seed design, written down so ELM can be measured against it.

What the seed Lambda does for each SQS message (its event source mapping hands it one
message per invocation):

1. reads the whole `Config-Master` table (a paginated Scan) to find the rule by name;
2. for the ARN and composite kinds, finds the exceptions with a Scan of the whole
   `Config-ResourceExceptions` table, filtered on partition, region and
   `contains(Exception, resourceId)`: a substring, so every item the filter returns is
   taken as a match. The simple Resource-ID kind reads nothing: its key is the resource ID;
3. makes a new STS client, calls GetCallerIdentity, then AssumeRole into the target
   account (every invocation: nothing is kept between them), makes a Config client with
   those credentials and asks `ListDiscoveredResources` about the one resource;
4. writes with UpdateItem: the Resource-ID kind's item under (`<account>_<RuleId>`,
   resourceId), unread, and each matched item; a composite is closed on its first deleted
   member.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3

from domain.deletion import is_deletion_event
from domain.events import ComplianceChange, InvalidEvent
from domain.records import CLOSED_STATUS
from domain.rules import ExceptionFormat, ExceptionType

__all__ = ["ReferenceHandler"]

_ROLE = "Role-Config-Mgmt"


class ReferenceHandler:
    """One seed-style Lambda container: a session and a DynamoDB client."""

    def __init__(
        self,
        session: boto3.session.Session,
        *,
        exceptions_table: str,
        rules_table: str,
        region: str = "us-east-1",
    ) -> None:
        self._session = session
        self._dynamodb = session.client("dynamodb", region_name=region)
        self._region = region
        self._exceptions = exceptions_table
        self._rules = rules_table

    def handler(self, event: Mapping[str, Any], _context: object = None) -> dict[str, Any]:
        """The seed's entry point: an SQS event of one record."""
        records = event["Records"]
        if len(records) != 1:
            raise ValueError(
                f"the seed design takes one message per invocation, got {len(records)}"
            )
        self.handle(records[0]["body"])
        return {}

    def handle(self, body: str) -> str:
        """One message; returns the outcome's name (for checking against ELM's)."""
        document = json.loads(body)
        try:
            change = ComplianceChange.from_event(document)
        except InvalidEvent:
            return "invalid"
        if not is_deletion_event(document):
            return "ignored"
        rule = self._find_rule(change.rule_name)
        if rule is None:
            return "ignored"
        rule_id = int(rule["RuleId"]["N"])
        exception_format = ExceptionFormat(rule["ExceptionFormat"]["S"])
        composite = rule["ExceptionType"]["S"] == ExceptionType.COMPOSITE.value
        partition = f"{change.account_id}_{rule_id}"
        if exception_format is ExceptionFormat.RESOURCE_ID and not composite:
            # The key is the resource ID: nothing is read, the item is written unread.
            matched = [
                {
                    "AccountId_RuleId": {"S": partition},
                    "Exception": {"S": change.resource_id},
                }
            ]
        else:
            matched = self._scan(partition, change.region, change.resource_id)
        if not matched:
            return "no-match"
        if not self._deleted(change):
            return "not-confirmed"
        for item in matched:
            self._close(item)
        return "closed"

    def _find_rule(self, name: str) -> dict[str, Any] | None:
        found = None
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._rules):
            for item in page["Items"]:
                if item["RuleName"]["S"] == name:
                    found = item
        return found

    def _scan(self, partition: str, region: str, resource_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self._dynamodb.get_paginator("scan").paginate(
            TableName=self._exceptions,
            FilterExpression="AccountId_RuleId = :p AND #r = :r AND contains(#e, :id)",
            ExpressionAttributeNames={"#r": "Region", "#e": "Exception"},
            ExpressionAttributeValues={
                ":p": {"S": partition},
                ":r": {"S": region},
                ":id": {"S": resource_id},
            },
        )
        for page in pages:
            found.extend(page["Items"])
        return found

    def _deleted(self, change: ComplianceChange) -> bool:
        sts: Any = self._session.client("sts", region_name=self._region)
        sts.get_caller_identity()
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{change.account_id}:role/{_ROLE}",
            RoleSessionName="elm-seed",
        )["Credentials"]
        config: Any = self._session.client(
            "config",
            region_name=change.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        found = config.list_discovered_resources(
            resourceType=change.resource_type,
            resourceIds=[change.resource_id],
            includeDeletedResources=True,
        )["resourceIdentifiers"]
        return any(
            r["resourceId"] == change.resource_id and "resourceDeletionTime" in r for r in found
        )

    def _close(self, item: dict[str, Any]) -> None:
        key = {"AccountId_RuleId": item["AccountId_RuleId"], "Exception": item["Exception"]}
        stamp = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
        self._dynamodb.update_item(
            TableName=self._exceptions,
            Key=key,
            UpdateExpression="SET ExceptionStatus = :s, UpdateTimeStamp = :t",
            ExpressionAttributeValues={":s": {"S": CLOSED_STATUS}, ":t": {"S": stamp}},
        )
