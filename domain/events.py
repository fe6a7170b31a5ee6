"""The two deletion signals, parsed and validated from EventBridge JSON.

A "Config Rules Compliance Change" event (`ComplianceChange`) names a rule and a resource; a
"Config Configuration Item Change" event (`ConfigurationItemChange`) is AWS Config's own
record of a resource, with its exact identity (type, ID, name, ARN) and no rule. `parse_event`
reads either, by the event's ``detail-type`` (or, without one, its ``detail.messageType``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from attrs import frozen

__all__ = [
    "CONFIGURATION_ITEM_DETAIL_TYPE",
    "CONFIGURATION_ITEM_MESSAGE_TYPE",
    "DELETED_ITEM_STATUSES",
    "MAX_RESOURCE_ID_LENGTH",
    "OVERSIZED_ITEM_MESSAGE_TYPE",
    "ComplianceChange",
    "ConfigurationItemChange",
    "DeletionSignal",
    "InvalidEvent",
    "is_account_id",
    "is_configuration_item_event",
    "is_region_name",
    "parse_event",
]

MAX_RESOURCE_ID_LENGTH = 1024
# re.ASCII: without it \d also matches Arabic-Indic, full-width and other Unicode digits.
_ACCOUNT_RE = re.compile(r"\d{12}", re.ASCII)
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", re.ASCII)
_RESOURCE_TYPE_RE = re.compile(r"[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MAX_RULE_NAME_LENGTH = 128
_MAX_EVENT_ID_LENGTH = 256
_MAX_ARN_LENGTH = 2048
_MAX_NAME_LENGTH = 1024

CONFIGURATION_ITEM_DETAIL_TYPE = "Config Configuration Item Change"
CONFIGURATION_ITEM_MESSAGE_TYPE = "ConfigurationItemChangeNotification"
OVERSIZED_ITEM_MESSAGE_TYPE = "OversizedConfigurationItemChangeNotification"
DELETED_ITEM_STATUSES: tuple[str, ...] = ("ResourceDeleted", "ResourceDeletedNotRecorded")
"""The `configurationItemStatus` values of a deleted resource (AWS Config API Reference,
"ConfigurationItem": OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted,
ResourceDeletedNotRecorded)."""


class InvalidEvent(ValueError):
    """The event cannot be processed; the message is a one-line reason naming the field."""


def is_account_id(value: object) -> bool:
    """True for exactly twelve ASCII digits."""
    return isinstance(value, str) and _ACCOUNT_RE.fullmatch(value) is not None


def is_region_name(value: object) -> bool:
    """True for a region name such as ``eu-west-1`` or ``us-gov-west-1``."""
    return isinstance(value, str) and _REGION_RE.fullmatch(value) is not None


@frozen
class ComplianceChange:
    """The fields of a "Config Rules Compliance Change" event that ELM uses."""

    event_id: str
    rule_name: str
    resource_type: str
    resource_id: str
    account_id: str
    region: str
    envelope_account: str | None = None
    envelope_region: str | None = None

    @property
    def signal(self) -> str:
        """The signal's name in logs and results."""
        return "compliance-change"

    @classmethod
    def from_event(cls, event: object) -> ComplianceChange:
        """Validate a decoded EventBridge event; raise `InvalidEvent` with a one-line reason."""
        if not _is_object(event):
            raise InvalidEvent(f"event is not a JSON object (got {_json_type(event)})")
        event_id = _required_str(event, "id", "id", max_length=_MAX_EVENT_ID_LENGTH)
        for name in ("source", "detail-type"):
            _optional_str(event, name, name)
        envelope_account = _optional_str(event, "account", "account")
        envelope_region = _optional_str(event, "region", "region")
        detail = event.get("detail")
        if detail is None:
            raise InvalidEvent("detail is missing")
        if not _is_object(detail):
            raise InvalidEvent(f"detail must be an object (got {_json_type(detail)})")
        _required_str(detail, "messageType", "detail.messageType")
        rule_name = _required_str(
            detail, "configRuleName", "detail.configRuleName", max_length=_MAX_RULE_NAME_LENGTH
        )
        resource_type = _required_str(detail, "resourceType", "detail.resourceType")
        if not _RESOURCE_TYPE_RE.fullmatch(resource_type):
            raise InvalidEvent(
                "detail.resourceType must look like AWS::Service::Type "
                f"(got {_show(resource_type)})"
            )
        resource_id = _required_str(
            detail, "resourceId", "detail.resourceId", max_length=MAX_RESOURCE_ID_LENGTH
        )
        account_id = _required_str(detail, "awsAccountId", "detail.awsAccountId")
        if not is_account_id(account_id):
            raise InvalidEvent(f"detail.awsAccountId must be 12 digits (got {_show(account_id)})")
        region = _required_str(detail, "awsRegion", "detail.awsRegion")
        if not is_region_name(region):
            raise InvalidEvent(f"detail.awsRegion is not a region name (got {_show(region)})")
        for result in ("oldEvaluationResult", "newEvaluationResult"):
            _check_evaluation_result(detail, result)
        return cls(
            event_id=event_id,
            rule_name=rule_name,
            resource_type=resource_type,
            resource_id=resource_id,
            account_id=account_id,
            region=region,
            envelope_account=envelope_account,
            envelope_region=envelope_region,
        )


@frozen
class ConfigurationItemChange:
    """The fields of a "Config Configuration Item Change" event that ELM uses.

    Both notification forms are read: ``ConfigurationItemChangeNotification`` carries the
    whole `configurationItem`; ``OversizedConfigurationItemChangeNotification`` (sent when
    the item is too large for a notification) carries a `configurationItemSummary` with the
    same identity fields ("Example Oversized Configuration Item Change Notification", AWS
    Config Developer Guide,
    https://docs.aws.amazon.com/config/latest/developerguide/oversized-notification-example.html).
    """

    event_id: str
    resource_type: str
    resource_id: str
    account_id: str
    region: str
    status: str
    resource_name: str | None = None
    arn: str | None = None
    change_type: str | None = None
    oversized: bool = False
    envelope_account: str | None = None
    envelope_region: str | None = None

    @property
    def rule_name(self) -> None:
        """The event names no rule: its candidate rules are found by resource type."""
        return None

    @property
    def signal(self) -> str:
        """The signal's name in logs and results."""
        return "configuration-item"

    @property
    def is_deleted(self) -> bool:
        """True when the item records a deleted resource."""
        return self.status in DELETED_ITEM_STATUSES

    @classmethod
    def from_event(cls, event: object) -> ConfigurationItemChange:
        """Validate a decoded EventBridge event; raise `InvalidEvent` with a one-line reason."""
        if not _is_object(event):
            raise InvalidEvent(f"event is not a JSON object (got {_json_type(event)})")
        event_id = _required_str(event, "id", "id", max_length=_MAX_EVENT_ID_LENGTH)
        for name in ("source", "detail-type"):
            _optional_str(event, name, name)
        envelope_account = _optional_str(event, "account", "account")
        envelope_region = _optional_str(event, "region", "region")
        detail = event.get("detail")
        if detail is None:
            raise InvalidEvent("detail is missing")
        if not _is_object(detail):
            raise InvalidEvent(f"detail must be an object (got {_json_type(detail)})")
        message_type = _required_str(detail, "messageType", "detail.messageType")
        oversized = message_type == OVERSIZED_ITEM_MESSAGE_TYPE
        name = "configurationItemSummary" if oversized else "configurationItem"
        path = f"detail.{name}"
        item = detail.get(name)
        if item is None:
            raise InvalidEvent(f"{path} is missing")
        if not _is_object(item):
            raise InvalidEvent(f"{path} must be an object (got {_json_type(item)})")
        resource_type = _required_str(item, "resourceType", f"{path}.resourceType")
        if not _RESOURCE_TYPE_RE.fullmatch(resource_type):
            raise InvalidEvent(
                f"{path}.resourceType must look like AWS::Service::Type "
                f"(got {_show(resource_type)})"
            )
        resource_id = _required_str(
            item, "resourceId", f"{path}.resourceId", max_length=MAX_RESOURCE_ID_LENGTH
        )
        account_id = _required_str(item, "awsAccountId", f"{path}.awsAccountId")
        if not is_account_id(account_id):
            raise InvalidEvent(f"{path}.awsAccountId must be 12 digits (got {_show(account_id)})")
        region = _required_str(item, "awsRegion", f"{path}.awsRegion")
        if not is_region_name(region):
            raise InvalidEvent(f"{path}.awsRegion is not a region name (got {_show(region)})")
        status = _required_str(item, "configurationItemStatus", f"{path}.configurationItemStatus")
        resource_name = _optional_text(
            item, "resourceName", f"{path}.resourceName", max_length=_MAX_NAME_LENGTH
        )
        arn = _optional_text(item, "ARN", f"{path}.ARN", max_length=_MAX_ARN_LENGTH)
        if oversized:
            change_type = _optional_str(item, "changeType", f"{path}.changeType")
        else:
            change_type = _diff_change_type(detail)
        return cls(
            event_id=event_id,
            resource_type=resource_type,
            resource_id=resource_id,
            account_id=account_id,
            region=region,
            status=status,
            resource_name=resource_name,
            arn=arn,
            change_type=change_type,
            oversized=oversized,
            envelope_account=envelope_account,
            envelope_region=envelope_region,
        )


DeletionSignal = ComplianceChange | ConfigurationItemChange
"""Either signal of a deletion, as `parse_event` returns it."""


def parse_event(event: object) -> DeletionSignal:
    """The event as the signal its ``detail-type`` names (without one, its ``messageType``).

    Raises `InvalidEvent` with a one-line reason, as each signal's ``from_event`` does.
    """
    if is_configuration_item_event(event):
        return ConfigurationItemChange.from_event(event)
    return ComplianceChange.from_event(event)


def is_configuration_item_event(event: object) -> bool:
    """True when the event says it is a configuration item change (whether or not valid)."""
    if not _is_object(event):
        return False
    detail_type = event.get("detail-type")
    if detail_type is not None:
        return bool(detail_type == CONFIGURATION_ITEM_DETAIL_TYPE)
    detail = event.get("detail")
    return _is_object(detail) and detail.get("messageType") in (
        CONFIGURATION_ITEM_MESSAGE_TYPE,
        OVERSIZED_ITEM_MESSAGE_TYPE,
    )


def _diff_change_type(detail: Mapping[str, Any]) -> str | None:
    diff = detail.get("configurationItemDiff")
    if diff is None:
        return None
    if not _is_object(diff):
        raise InvalidEvent(
            f"detail.configurationItemDiff must be an object (got {_json_type(diff)})"
        )
    return _optional_str(diff, "changeType", "detail.configurationItemDiff.changeType")


def _optional_text(
    container: Mapping[str, Any], key: str, path: str, *, max_length: int
) -> str | None:
    """An optional string: null, absent or blank is None; otherwise a usable value."""
    value = _optional_str(container, key, path)
    if not value or value.isspace():
        return None
    return _required_str(container, key, path, max_length=max_length)


def _check_evaluation_result(detail: Mapping[str, Any], name: str) -> None:
    value = detail.get(name)
    if value is None:
        return
    if not _is_object(value):
        raise InvalidEvent(f"detail.{name} must be an object (got {_json_type(value)})")
    for field in ("complianceType", "annotation"):
        _optional_str(value, field, f"detail.{name}.{field}")


def _required_str(
    container: Mapping[str, Any], key: str, path: str, *, max_length: int | None = None
) -> str:
    value = container.get(key)
    if type(value) is not str:
        # None, another JSON type, or (not from decoded JSON) a str subclass.
        value = _optional_str(container, key, path)
        if value is None:
            raise InvalidEvent(f"{path} is missing")
    # Empty or only what str.strip() would remove, without building the stripped copy.
    if not value or value.isspace():
        raise InvalidEvent(f"{path} is empty")
    # Printable ASCII holds no control character: the regex only for what may.
    if not (value.isascii() and value.isprintable()) and _CONTROL_RE.search(value):
        raise InvalidEvent(f"{path} contains control characters (got {_show(value)})")
    if max_length is not None and len(value) > max_length:
        raise InvalidEvent(f"{path} is longer than {max_length} characters ({len(value)})")
    return value


def _optional_str(container: Mapping[str, Any], key: str, path: str) -> str | None:
    value = container.get(key)
    # Decoded JSON gives exact str: the cheap check first, as this runs for every field.
    if value is None or type(value) is str:
        return value
    if not isinstance(value, str):
        raise InvalidEvent(f"{path} must be a string (got {_json_type(value)})")
    return value


def _is_object(value: object) -> TypeGuard[Mapping[str, Any]]:
    """A JSON object: decoded JSON gives a dict, so that is checked before the ABC."""
    return type(value) is dict or isinstance(value, Mapping)


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list() | tuple():
            return "array"
        case Mapping():
            return "object"
        case _:
            return type(value).__name__


def _show(value: str, limit: int = 40) -> str:
    """A short, single-line, escaped rendering of a bad value for a reason message."""
    shown = repr(value[:limit])
    return shown + ("…" if len(value) > limit else "")
