"""Real-shaped AWS Config events ("Config Rules Compliance Change" and "Config Configuration
Item Change"), for scenarios, the local pipeline, tests and benchmarks. AWS Config sends
these; ELM only ever builds them to simulate it."""

from __future__ import annotations

import uuid
from typing import Any

from domain.deletion import DELETED_ANNOTATION_PREFIX, EXCEPTION_ANNOTATIONS
from domain.events import (
    CONFIGURATION_ITEM_DETAIL_TYPE,
    CONFIGURATION_ITEM_MESSAGE_TYPE,
    OVERSIZED_ITEM_MESSAGE_TYPE,
)

__all__ = ["compliance_change_event", "configuration_item_event", "deletion_event"]

_TIME = "2026-03-04T10:15:30Z"


def compliance_change_event(
    *,
    account_id: str,
    region: str,
    rule_name: str,
    resource_type: str,
    resource_id: str,
    old_compliance: str | None = "COMPLIANT",
    old_annotation: str | None = EXCEPTION_ANNOTATIONS[0],
    new_compliance: str = "NOT_APPLICABLE",
    new_annotation: str | None = f"{DELETED_ANNOTATION_PREFIX}.",
    event_id: str | None = None,
    envelope_account: str | None = None,
    envelope_region: str | None = None,
    time: str = _TIME,
) -> dict[str, Any]:
    """An EventBridge event as AWS Config emits it; envelope fields default to the detail's."""
    qualifier = {
        "configRuleName": rule_name,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "evaluationMode": "DETECTIVE",
    }
    detail: dict[str, Any] = {
        "resourceId": resource_id,
        "awsRegion": region,
        "awsAccountId": account_id,
        "configRuleName": rule_name,
        "recordVersion": "1.0",
        "configRuleARN": f"arn:aws:config:{region}:{account_id}:config-rule/config-rule-elm000",
        "messageType": "ComplianceChangeNotification",
        "newEvaluationResult": _evaluation(qualifier, new_compliance, new_annotation, time),
        "notificationCreationTime": time,
        "resourceType": resource_type,
    }
    if old_compliance is not None:
        detail["oldEvaluationResult"] = _evaluation(qualifier, old_compliance, old_annotation, time)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": envelope_account or account_id,
        "time": time,
        "region": envelope_region or region,
        "resources": [],
        "detail": detail,
    }


def deletion_event(
    *,
    account_id: str,
    region: str,
    rule_name: str,
    resource_type: str,
    resource_id: str,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A deletion event: the resource had an exception, and was deleted."""
    return compliance_change_event(
        account_id=account_id,
        region=region,
        rule_name=rule_name,
        resource_type=resource_type,
        resource_id=resource_id,
        event_id=event_id,
    )


def _evaluation(
    qualifier: dict[str, str], compliance: str, annotation: str | None, time: str
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "evaluationResultIdentifier": {
            "evaluationResultQualifier": dict(qualifier),
            "orderingTimestamp": time,
        },
        "complianceType": compliance,
        "resultRecordedTime": time,
        "configRuleInvokedTime": time,
    }
    if annotation is not None:
        result["annotation"] = annotation
    return result


def configuration_item_event(
    *,
    account_id: str,
    region: str,
    resource_type: str,
    resource_id: str,
    resource_name: str | None = None,
    arn: str | None = None,
    status: str = "ResourceDeleted",
    change_type: str | None = "DELETE",
    oversized: bool = False,
    event_id: str | None = None,
    envelope_account: str | None = None,
    envelope_region: str | None = None,
    time: str = _TIME,
) -> dict[str, Any]:
    """A "Config Configuration Item Change" event: by default, a deleted resource's record.

    ``oversized`` gives the form AWS Config sends when the item is too large for a
    notification: a `configurationItemSummary` (with the change type in it) instead of the
    `configurationItem` and its `configurationItemDiff`.
    """
    item: dict[str, Any] = {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": time,
        "configurationStateId": 1764321238204,
        "awsAccountId": account_id,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": resource_name,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": "Not Applicable",
        "configurationStateMd5Hash": "",
    }
    detail: dict[str, Any] = {"recordVersion": "1.3", "notificationCreationTime": time}
    if oversized:
        detail["messageType"] = OVERSIZED_ITEM_MESSAGE_TYPE
        detail["configurationItemSummary"] = {"changeType": change_type, **item}
        detail["s3DeliverySummary"] = {
            "s3BucketLocation": f"config-bucket-{account_id}/AWSLogs/{account_id}/Config",
            "errorCode": None,
            "errorMessage": None,
        }
    else:
        detail["messageType"] = CONFIGURATION_ITEM_MESSAGE_TYPE
        detail["configurationItemDiff"] = {"changedProperties": {}, "changeType": change_type}
        detail["configurationItem"] = {
            "relatedEvents": [],
            "relationships": [],
            "configuration": None,
            "supplementaryConfiguration": {},
            "tags": {},
            **item,
        }
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": CONFIGURATION_ITEM_DETAIL_TYPE,
        "source": "aws.config",
        "account": envelope_account or account_id,
        "time": time,
        "region": envelope_region or region,
        "resources": [arn] if arn else [],
        "detail": detail,
    }
