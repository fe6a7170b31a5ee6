"""DynamoDB items <-> domain values, in the table formats of docs/behaviour.md.

The conversion lives here, at the boundary: the domain never sees an attribute value. A
malformed item raises `MalformedItemError` naming the item's key and the attribute, so an
operator can find and fix it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from application.errors import RecordFormatError
from domain.records import Action, ExceptionRecord, HistoryEntry, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

__all__ = [
    "EXCEPTIONS_HASH_KEY",
    "EXCEPTIONS_RANGE_KEY",
    "RULES_HASH_KEY",
    "MalformedItemError",
    "document_from_item",
    "format_instant",
    "history_to_attribute",
    "item_from_document",
    "item_key",
    "record_from_item",
    "record_to_document",
    "record_to_item",
    "rule_from_item",
    "rule_to_item",
]

_E = TypeVar("_E", bound=Enum)

EXCEPTIONS_HASH_KEY = "AccountId_RuleId"
EXCEPTIONS_RANGE_KEY = "Exception"
RULES_HASH_KEY = "RuleId"


class MalformedItemError(RecordFormatError):
    """An item does not have the shape its table has."""

    def __init__(self, item: str, attribute: str, problem: str) -> None:
        super().__init__(f"item {item}: attribute {attribute} {problem}")
        self.item = item
        self.attribute = attribute


# --- Config-Master ---------------------------------------------------------------------


def rule_from_item(item: Mapping[str, AttributeValueTypeDef]) -> Rule:
    """The rule an item of `Config-Master` describes."""
    reader = _Reader(item, _describe(item, (RULES_HASH_KEY,)))
    rule_id = reader.integer(RULES_HASH_KEY)
    name = reader.string("RuleName")
    exception_format = reader.choice("ExceptionFormat", ExceptionFormat)
    exception_type = reader.choice("ExceptionType", ExceptionType)
    resource_types = reader.string_set("ResourceTypes")
    try:
        return Rule(rule_id, name, exception_format, exception_type, resource_types)
    except ValueError as error:
        raise MalformedItemError(reader.label, RULES_HASH_KEY, str(error)) from None


def rule_to_item(rule: Rule) -> dict[str, AttributeValueTypeDef]:
    """The `Config-Master` item of ``rule``."""
    item: dict[str, AttributeValueTypeDef] = {
        RULES_HASH_KEY: {"N": str(rule.rule_id)},
        "RuleName": {"S": rule.name},
        "ExceptionFormat": {"S": rule.exception_format.value},
        "ExceptionType": {"S": rule.exception_type.value},
    }
    if rule.resource_types:
        item["ResourceTypes"] = {"SS": sorted(rule.resource_types)}
    return item


# --- Config-ResourceExceptions ---------------------------------------------------------


def item_key(record_key: RecordKey) -> dict[str, AttributeValueTypeDef]:
    """The primary key of the item holding ``record_key``."""
    return {
        EXCEPTIONS_HASH_KEY: {"S": record_key.partition_key},
        EXCEPTIONS_RANGE_KEY: {"S": record_key.key},
    }


def record_from_item(item: Mapping[str, AttributeValueTypeDef]) -> ExceptionRecord:
    """The exception record an item of `Config-ResourceExceptions` holds.

    Attributes ELM does not know are ignored here, and left alone by every write.
    """
    reader = _Reader(item, _describe(item, (EXCEPTIONS_HASH_KEY, EXCEPTIONS_RANGE_KEY)))
    partition = reader.string(EXCEPTIONS_HASH_KEY)
    key = reader.string(EXCEPTIONS_RANGE_KEY)
    rule_id = reader.integer("RuleId")
    account_id, _, partition_rule = partition.partition("_")
    if partition_rule != str(rule_id):
        raise MalformedItemError(
            reader.label,
            EXCEPTIONS_HASH_KEY,
            f"must be <account>_<RuleId> with RuleId {rule_id} (got {partition!r})",
        )
    try:
        record_key = RecordKey(account_id, rule_id, key)
    except ValueError as error:
        raise MalformedItemError(reader.label, EXCEPTIONS_HASH_KEY, str(error)) from None
    return ExceptionRecord(
        record_key=record_key,
        region=reader.string("Region"),
        status=reader.string("ExceptionStatus"),
        resource_type=reader.optional_string("ResourceType"),
        deleted_members=reader.string_set("DeletedMembers"),
        history=reader.history("History"),
        last_modified_by=reader.optional_string("LastModifiedBy"),
        update_timestamp=reader.optional_string("UpdateTimeStamp"),
        ttl=reader.optional_integer("TTL"),
    )


def record_to_item(record: ExceptionRecord) -> dict[str, AttributeValueTypeDef]:
    """The `Config-ResourceExceptions` item of ``record`` (absent values are left out)."""
    item: dict[str, AttributeValueTypeDef] = {
        **item_key(record.record_key),
        "RuleId": {"N": str(record.rule_id)},
        "Region": {"S": record.region},
        "ExceptionStatus": {"S": record.status},
    }
    if record.resource_type is not None:
        item["ResourceType"] = {"S": record.resource_type}
    if record.deleted_members:
        item["DeletedMembers"] = {"SS": sorted(record.deleted_members)}
    if record.history:
        item["History"] = history_to_attribute(record.history)
    if record.last_modified_by is not None:
        item["LastModifiedBy"] = {"S": record.last_modified_by}
    if record.update_timestamp is not None:
        item["UpdateTimeStamp"] = {"S": record.update_timestamp}
    if record.ttl is not None:
        item["TTL"] = {"N": str(record.ttl)}
    return item


def history_to_attribute(entries: tuple[HistoryEntry, ...]) -> AttributeValueTypeDef:
    """A `History` list (L of M) holding ``entries``."""
    values: list[AttributeValueTypeDef] = []
    for entry in entries:
        entry_map: dict[str, AttributeValueTypeDef] = {
            "EventId": {"S": entry.event_id},
            "At": {"S": format_instant(entry.at)},
            "Action": {"S": entry.action.value},
        }
        if entry.member is not None:
            entry_map["Member"] = {"S": entry.member}
        values.append({"M": entry_map})
    return {"L": values}


def format_instant(at: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, e.g. `2026-03-04T10:15:30Z` (sub-seconds kept if any)."""
    if at.tzinfo is None:
        raise ValueError("history times must be timezone-aware")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- plain JSON documents (import and --json output) -----------------------------------

_STRINGS = (
    EXCEPTIONS_HASH_KEY,
    EXCEPTIONS_RANGE_KEY,
    "Region",
    "ExceptionStatus",
    "ResourceType",
    "LastModifiedBy",
    "UpdateTimeStamp",
)
_INTEGERS = ("RuleId", "TTL")


def record_to_document(record: ExceptionRecord) -> dict[str, Any]:
    """``record`` as a plain JSON object with the table's attribute names."""
    document: dict[str, Any] = {
        EXCEPTIONS_HASH_KEY: record.record_key.partition_key,
        EXCEPTIONS_RANGE_KEY: record.key,
        "RuleId": record.rule_id,
        "Region": record.region,
        "ExceptionStatus": record.status,
    }
    if record.resource_type is not None:
        document["ResourceType"] = record.resource_type
    if record.deleted_members:
        document["DeletedMembers"] = sorted(record.deleted_members)
    if record.history:
        document["History"] = [
            {
                "EventId": e.event_id,
                "At": format_instant(e.at),
                "Action": e.action.value,
                **({"Member": e.member} if e.member is not None else {}),
            }
            for e in record.history
        ]
    if record.last_modified_by is not None:
        document["LastModifiedBy"] = record.last_modified_by
    if record.update_timestamp is not None:
        document["UpdateTimeStamp"] = record.update_timestamp
    if record.ttl is not None:
        document["TTL"] = record.ttl
    return document


def document_from_item(item: Mapping[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """Every attribute of ``item`` as plain JSON values: the record's attributes as
    `record_to_document` writes them, then any other attribute (sets become sorted lists,
    binary becomes base64 text). Raises `MalformedItemError` like `record_from_item`."""
    document = record_to_document(record_from_item(item))
    deserializer = TypeDeserializer()
    for name in sorted(item):
        if name not in document:
            document[name] = _plain(deserializer.deserialize(item[name]))
    return document


def _plain(value: Any) -> Any:
    match value:
        case Decimal():
            return int(value) if value == value.to_integral_value() else float(value)
        case Binary():
            raw: Any = value.value  # type: ignore[attr-defined]  # the stubs omit it
            return base64.b64encode(raw).decode("ascii")
        case bytes():
            return base64.b64encode(value).decode("ascii")
        case set() | frozenset():
            return sorted(_plain(v) for v in value)
        case list():
            return [_plain(v) for v in value]
        case dict():
            return {k: _plain(v) for k, v in value.items()}
    return value


def item_from_document(document: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """The item a plain JSON object describes: the table's attributes get the table's types.

    Other attributes are kept, typed as boto3 types them (numbers must be `Decimal`: parse
    the JSON with ``parse_float=Decimal``). Raises `ValueError` naming the attribute.
    """
    item: dict[str, AttributeValueTypeDef] = {}
    serializer = TypeSerializer()
    for name, value in document.items():
        if name in _STRINGS:
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string (got {_json_type(value)})")
            item[name] = {"S": value}
        elif name in _INTEGERS:
            item[name] = {"N": str(_whole_number(name, value))}
        elif name == "DeletedMembers":
            if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
                raise ValueError("DeletedMembers must be a list of strings")
            if value:
                item[name] = {"SS": sorted(set(value))}
        elif name == "History":
            item[name] = _history_from_document(value)
        else:
            try:
                item[name] = serializer.serialize(value)
            except (TypeError, ValueError) as error:
                raise ValueError(f"{name}: {error}") from None
    return item


def _whole_number(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValueError(f"{name} must be a whole number (got {_json_type(value)})")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name} must be a whole number (got {value!r})") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{name} must be a whole number (got {value!r})")
    return int(number)


def _history_from_document(value: Any) -> AttributeValueTypeDef:
    if not isinstance(value, list):
        raise ValueError(f"History must be a list (got {_json_type(value)})")
    entries: list[AttributeValueTypeDef] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise ValueError(f"History[{index}] must be an object (got {_json_type(entry)})")
        fields: dict[str, AttributeValueTypeDef] = {}
        for field_name, field_value in entry.items():
            if field_name not in ("EventId", "At", "Action", "Member"):
                raise ValueError(f"History[{index}] has an unknown field {field_name!r}")
            if not isinstance(field_value, str):
                raise ValueError(f"History[{index}].{field_name} must be a string")
            fields[field_name] = {"S": field_value}
        entries.append({"M": fields})
    return {"L": entries}


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float() | Decimal():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
    return type(value).__name__


# --- reading attribute values ------------------------------------------------------------


def _describe(item: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    parts = []
    for name in keys:
        value = item.get(name)
        shown = next(iter(value.values()), "?") if isinstance(value, Mapping) and value else "?"
        parts.append(f"{name}={shown}")
    return "(" + ", ".join(parts) + ")"


class _Reader:
    """Typed access to one item's attributes; every failure names the item and attribute."""

    def __init__(self, item: Mapping[str, Any], label: str) -> None:
        self._item = item
        self.label = label

    def _typed(self, name: str, type_code: str) -> Any:
        value = self._item.get(name)
        if value is None:
            return None
        if not isinstance(value, Mapping) or type_code not in value:
            kind = "/".join(value) if isinstance(value, Mapping) else type(value).__name__
            raise MalformedItemError(self.label, name, f"must be of type {type_code} (is {kind})")
        return value[type_code]

    def optional_string(self, name: str) -> str | None:
        value = self._typed(name, "S")
        return None if value is None else str(value)

    def string(self, name: str) -> str:
        value = self.optional_string(name)
        if value is None or not value:
            raise MalformedItemError(self.label, name, "is missing or empty")
        return value

    def optional_integer(self, name: str) -> int | None:
        raw = self._typed(name, "N")
        if raw is None:
            return None
        try:
            return int(str(raw))
        except ValueError:
            raise MalformedItemError(
                self.label, name, f"must be a whole number (got {raw!r})"
            ) from None

    def integer(self, name: str) -> int:
        value = self.optional_integer(name)
        if value is None:
            raise MalformedItemError(self.label, name, "is missing")
        return value

    def string_set(self, name: str) -> frozenset[str]:
        value = self._typed(name, "SS")
        return frozenset() if value is None else frozenset(str(v) for v in value)

    def choice(self, name: str, enum: type[_E]) -> _E:
        raw = self.string(name)
        try:
            return enum(raw)
        except ValueError:
            allowed = " or ".join(repr(e.value) for e in enum)
            raise MalformedItemError(self.label, name, f"must be {allowed} (got {raw!r})") from None

    def history(self, name: str) -> tuple[HistoryEntry, ...]:
        entries = self._typed(name, "L")
        if entries is None:
            return ()
        return tuple(self._entry(name, index, value) for index, value in enumerate(entries))

    def _entry(self, name: str, index: int, value: Any) -> HistoryEntry:
        where = f"{name}[{index}]"
        if not isinstance(value, Mapping) or not isinstance(value.get("M"), Mapping):
            raise MalformedItemError(self.label, where, "must be a map (M)")
        entry = _Reader(value["M"], self.label)
        try:
            event_id = entry.string("EventId")
            at_text = entry.string("At")
            action_text = entry.string("Action")
            member = entry.optional_string("Member")
        except MalformedItemError as error:
            raise MalformedItemError(
                self.label, f"{where}.{error.attribute}", "is missing or not a string"
            ) from None
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            raise MalformedItemError(
                self.label, f"{where}.At", f"must be an ISO-8601 time (got {at_text!r})"
            ) from None
        # Hand-written entries may omit the zone; the table's times are UTC.
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        try:
            action = Action(action_text)
        except ValueError:
            allowed = ", ".join(a.value for a in Action)
            raise MalformedItemError(
                self.label, f"{where}.Action", f"must be one of {allowed} (got {action_text!r})"
            ) from None
        return HistoryEntry(event_id, at, action, member)
