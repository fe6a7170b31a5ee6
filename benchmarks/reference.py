"""The scan-based seed design, written down so ELM can be measured against it.

What the seed Lambda does for each SQS message (its event source mapping hands it one
message per invocation):

1. reads the whole `Config-Master` table (a paginated Scan) to find the rule by name;
2. finds the exception: a GetItem on (`<account>_<RuleId>`, resourceId) for the simple
   Resource-ID kind; for the ARN and composite kinds, a Scan of the whole
   `Config-ResourceExceptions` table with a FilterExpression on partition, region and
   `contains(Exception, resourceId)`;
3. assumes the target account's role (every invocation: nothing is cached between them),
   makes a Config client with those credentials and asks `ListDiscoveredResources` about
   the one resource;
4. writes the change with UpdateItem.

Matching after the Scan uses ELM's exact matcher, so that both designs close the same
records and the comparison is about access patterns only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3

from domain.deletion import is_deletion_event
from domain.events import ComplianceChange, InvalidEvent
from domain.matching import ResourceIdentity, key_matches
from domain.records import CLOSED_STATUS, split_members
from domain.rules import ExceptionFormat, ExceptionType

__all__ = ["ReferenceHandler"]

_ROLE = "Role-Config-Mgmt"


class ReferenceHandler:
    """One seed-style Lambda container: a session, a DynamoDB client and an STS client."""

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
        self._sts = session.client("sts", region_name=region)
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
        identity = ResourceIdentity(change.resource_type, change.resource_id)
        if exception_format is ExceptionFormat.RESOURCE_ID and not composite:
            candidates = self._get(partition, change.resource_id)
        else:
            candidates = self._scan(partition, change.region, change.resource_id)
        matched = [
            item
            for item in candidates
            if item.get("Region", {}).get("S") == change.region
            and item.get("ExceptionStatus", {}).get("S") != CLOSED_STATUS
            and any(
                key_matches(
                    key,
                    exception_format,
                    identity,
                    account_id=change.account_id,
                    region=change.region,
                )
                for key in (
                    split_members(item["Exception"]["S"])
                    if composite
                    else (item["Exception"]["S"],)
                )
            )
        ]
        if not matched:
            return "no-match"
        if not self._deleted(change):
            return "not-confirmed"
        outcome = "closed"
        for item in matched:
            outcome = self._write(item, change, composite=composite)
        return outcome

    def _find_rule(self, name: str) -> dict[str, Any] | None:
        found = None
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._rules):
            for item in page["Items"]:
                if item["RuleName"]["S"] == name:
                    found = item
        return found

    def _get(self, partition: str, key: str) -> list[dict[str, Any]]:
        item = self._dynamodb.get_item(
            TableName=self._exceptions,
            Key={"AccountId_RuleId": {"S": partition}, "Exception": {"S": key}},
        ).get("Item")
        return [item] if item else []

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
        credentials = self._sts.assume_role(
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

    def _write(self, item: dict[str, Any], change: ComplianceChange, *, composite: bool) -> str:
        key = {"AccountId_RuleId": item["AccountId_RuleId"], "Exception": item["Exception"]}
        stamp = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
        if composite:
            members = split_members(item["Exception"]["S"])
            done = set(item.get("DeletedMembers", {}).get("SS", [])) | {change.resource_id}
            if not set(members) <= done:
                self._dynamodb.update_item(
                    TableName=self._exceptions,
                    Key=key,
                    UpdateExpression="ADD DeletedMembers :m SET UpdateTimeStamp = :t",
                    ExpressionAttributeValues={
                        ":m": {"SS": [change.resource_id]},
                        ":t": {"S": stamp},
                    },
                )
                return "member-deleted"
        self._dynamodb.update_item(
            TableName=self._exceptions,
            Key=key,
            UpdateExpression="SET ExceptionStatus = :s, UpdateTimeStamp = :t",
            ExpressionAttributeValues={":s": {"S": CLOSED_STATUS}, ":t": {"S": stamp}},
        )
        return "closed"
