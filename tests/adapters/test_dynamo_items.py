"""Item conversion: round trips, and malformed items named by key and attribute."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.aws.dynamo_items import (
    MalformedItemError,
    item_from_document,
    record_from_item,
    record_to_document,
    record_to_item,
    rule_from_item,
    rule_to_item,
)
from domain.records import Action, ExceptionRecord, HistoryEntry, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule

RECORD = ExceptionRecord(
    RecordKey("111122223333", 7, "vol-1,vol-2"),
    region="eu-west-1",
    status="RESOURCE_DELETED",
    resource_type="AWS::EC2::Volume",
    deleted_members=frozenset({"vol-1", "vol-2"}),
    history=(
        HistoryEntry("evt-1", datetime(2026, 3, 4, 10, 15, 30, 250000, tzinfo=UTC), Action.CLOSED),
    ),
    last_modified_by="ELM_AUTOMATION",
    update_timestamp="03/04/2026 10:15:30",
    ttl=1780654530,
)


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(record_to_item(RECORD))
    for name, value in changes.items():
        if value is None:
            base.pop(name)
        else:
            base[name] = value
    return base


def test_a_record_survives_a_round_trip() -> None:
    assert record_from_item(record_to_item(RECORD)) == RECORD


def test_a_minimal_seed_item_reads_as_an_open_record() -> None:
    seed = {
        "AccountId_RuleId": {"S": "111122223333_7"},
        "Exception": {"S": "sg-1"},
        "RuleId": {"N": "7"},
        "Region": {"S": "eu-west-1"},
        "ExceptionStatus": {"S": "ACTIVE"},
        "Justification": {"S": "ignored by ELM"},
    }

    record = record_from_item(seed)

    assert record == ExceptionRecord(RecordKey("111122223333", 7, "sg-1"), region="eu-west-1")


def test_a_history_time_without_a_zone_is_read_as_utc() -> None:
    entry = {
        "M": {"EventId": {"S": "e"}, "At": {"S": "2026-03-04T10:15:30"}, "Action": {"S": "closed"}}
    }

    record = record_from_item(item(History={"L": [entry]}))

    assert record.history[0].at == datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "attribute"),
    [
        ({"TTL": {"S": "1780654530"}}, "TTL must be of type N"),
        ({"TTL": {"N": "1780654530.5"}}, "TTL must be a whole number"),
        ({"Region": None}, "Region is missing"),
        ({"ExceptionStatus": None}, "ExceptionStatus is missing"),
        ({"RuleId": {"N": "8"}}, "AccountId_RuleId must be <account>_<RuleId>"),
        ({"AccountId_RuleId": {"S": "1111_7"}}, "AccountId_RuleId account id must be 12 digits"),
        ({"DeletedMembers": {"L": []}}, "DeletedMembers must be of type SS"),
        ({"History": {"L": [{"S": "closed"}]}}, r"History\[0\] must be a map"),
        (
            {"History": {"L": [{"M": {"EventId": {"S": "e"}, "Action": {"S": "closed"}}}]}},
            r"History\[0\]\.At is missing",
        ),
        (
            {
                "History": {
                    "L": [
                        {
                            "M": {
                                "EventId": {"S": "e"},
                                "At": {"S": "yesterday"},
                                "Action": {"S": "closed"},
                            }
                        }
                    ]
                }
            },
            r"History\[0\]\.At must be an ISO-8601 time",
        ),
        (
            {
                "History": {
                    "L": [
                        {
                            "M": {
                                "EventId": {"S": "e"},
                                "At": {"S": "2026-03-04T10:15:30Z"},
                                "Action": {"S": "opened"},
                            }
                        }
                    ]
                }
            },
            r"History\[0\]\.Action must be one of",
        ),
    ],
)
def test_a_malformed_record_item_names_the_item_and_attribute(
    changes: dict[str, Any], attribute: str
) -> None:
    with pytest.raises(MalformedItemError, match=attribute) as raised:
        record_from_item(item(**changes))

    assert "vol-1,vol-2" in str(raised.value)


def test_a_rule_survives_a_round_trip() -> None:
    rule = Rule(
        3,
        "ebs",
        ExceptionFormat.RESOURCE_ID,
        ExceptionType.COMPOSITE,
        frozenset({"AWS::EC2::Volume"}),
    )

    assert rule_from_item(rule_to_item(rule)) == rule


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"RuleId": {"S": "7"}}, "RuleId must be of type N"),
        ({"RuleId": {"N": "-1"}}, "RuleId must not be negative"),
        ({"RuleName": {"S": ""}}, "RuleName is missing or empty"),
        ({"ExceptionType": {"S": "Complex"}}, "ExceptionType must be 'Simple' or 'Composite'"),
    ],
)
def test_a_malformed_rule_item_names_the_attribute(changes: dict[str, Any], message: str) -> None:
    rule = Rule(7, "sg", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)

    with pytest.raises(MalformedItemError, match=message):
        rule_from_item({**rule_to_item(rule), **changes})


def test_a_record_survives_a_round_trip_through_its_json_document() -> None:
    document = json.loads(json.dumps(record_to_document(RECORD)), parse_float=Decimal)

    assert record_from_item(item_from_document(document)) == RECORD


def test_other_attributes_of_a_document_keep_their_json_types() -> None:
    converted = item_from_document(
        {"Note": "x", "Score": Decimal("1.5"), "Flag": True, "Tags": {"a": [1, None]}}
    )

    assert converted == {
        "Note": {"S": "x"},
        "Score": {"N": "1.5"},
        "Flag": {"BOOL": True},
        "Tags": {"M": {"a": {"L": [{"N": "1"}, {"NULL": True}]}}},
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"RuleId": True}, "RuleId must be a whole number"),
        ({"RuleId": Decimal("7.5")}, "RuleId must be a whole number"),
        ({"TTL": "soon"}, "TTL must be a whole number"),
        ({"Region": 5}, "Region must be a string"),
        ({"DeletedMembers": "vol-1"}, "DeletedMembers must be a list of strings"),
        ({"History": [{"EventId": "e", "When": "now"}]}, r"History\[0\] has an unknown field"),
        ({"History": [{"EventId": 5}]}, r"History\[0\]\.EventId must be a string"),
        ({"Score": 1.5}, "Score: Float types are not supported"),
    ],
)
def test_a_malformed_document_names_the_attribute(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        item_from_document(document)
