"""Properties, checked by hypothesis over generated inputs.

The event parser: any JSON value, and any valid event with one field replaced or removed,
yields an outcome (`invalid` among them), never an unhandled exception. Matching: a key that
differs from the resource in one character never matches it (docs/matching.md: exact, never a
substring). For ARNs that is a character of what identifies the resource: the `arn` prefix,
the partition (implied by the event's region), the region, the account, the resource name,
and the separators between them. The service and the resource path before the name are not
compared (§5): the event names neither in ARN terms.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from application.handle_change import ChangeResult, HandleComplianceChange
from domain.events import ComplianceChange, InvalidEvent
from domain.matching import ResourceIdentity, key_matches
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import deletion_event

ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG = "AWS::EC2::SecurityGroup"
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=5)
    ),
    max_leaves=30,
)


def _handle() -> HandleComplianceChange:
    rules = InMemoryRuleCatalog()
    rules.add(Rule(1, "sg-open", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE))
    store = InMemoryExceptionStore()
    store.add(ExceptionRecord(RecordKey(ACCOUNT, 1, "sg-1"), region=REGION))
    inventory = InMemoryInventory()
    inventory.put(ACCOUNT, REGION, SG, "sg-1", deleted=True)
    return HandleComplianceChange(rules, store, inventory, FixedClock())


def _valid_event() -> dict[str, Any]:
    return deletion_event(
        account_id=ACCOUNT,
        region=REGION,
        rule_name="sg-open",
        resource_type=SG,
        resource_id="sg-1",
        event_id="evt-1",
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*prefix, index)))
    return found


EVENT_PATHS = _paths(_valid_event())


def _assert_an_outcome(result: ChangeResult) -> None:
    assert isinstance(result.outcome, Outcome)
    assert result.reason
    assert "\n" not in result.reason


@PROPERTY
@given(value=json_values)
def test_any_json_value_is_parsed_or_invalid_never_an_unhandled_exception(value: Any) -> None:
    try:
        ComplianceChange.from_event(value)
    except InvalidEvent as error:
        reason = str(error)
    else:
        reason = "parsed"
    assert reason
    _assert_an_outcome(_handle().execute(json.dumps(value)))
    if isinstance(value, dict):
        _assert_an_outcome(_handle().execute(value))


@PROPERTY
@given(path=st.sampled_from(EVENT_PATHS), replacement=json_values, remove=st.booleans())
def test_a_valid_event_with_one_field_replaced_or_removed_yields_an_outcome(
    path: tuple[Any, ...], replacement: Any, remove: bool
) -> None:
    event = _valid_event()
    target: Any = event
    for step in path[:-1]:
        target = target[step]
    if remove:
        del target[path[-1]]
    else:
        target[path[-1]] = replacement
    result = _handle().execute(json.dumps(event))
    _assert_an_outcome(result)
    assert not result.outcome.fails_record or result.outcome is Outcome.INVALID


@PROPERTY
@given(text=st.text(max_size=200))
def test_any_text_body_yields_an_outcome(text: str) -> None:
    _assert_an_outcome(_handle().execute(text))


# --- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "region", "matches"),
    [
        ("arn:aws:s3:::my-bucket", "eu-west-1", True),
        ("arn:aws-cn:s3:::my-bucket", "eu-west-1", False),
        ("arn:aws:s3:::my-bucket", "cn-north-1", False),
        ("arn:aws-cn:s3:::my-bucket", "cn-northwest-1", True),
        ("arn:aws-us-gov:s3:::my-bucket", "us-gov-west-1", True),
        ("arn:aws:s3:::my-bucket", "us-gov-east-1", False),
        ("arn:aws-iso:s3:::my-bucket", "us-iso-east-1", True),
        ("arn:aws-iso-b:s3:::my-bucket", "us-isob-east-1", True),
        ("arn:aws-iso-b:s3:::my-bucket", "us-iso-east-1", False),
        ("arn:aws-x:s3:::my-bucket", "eu-west-1", False),
    ],
)
def test_an_arn_matches_only_in_the_partition_of_the_events_region(
    arn: str, region: str, matches: bool
) -> None:
    resource = ResourceIdentity("AWS::S3::Bucket", "my-bucket")
    assert (
        key_matches(arn, ExceptionFormat.RESOURCE_ARN, resource, account_id=ACCOUNT, region=region)
        is matches
    )


_ID_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x24FF, exclude_categories=("Cs",))
_NAME_CHARS = st.characters(
    min_codepoint=0x21, max_codepoint=0x24FF, exclude_categories=("Cs",), exclude_characters="/:"
)


@st.composite
def one_char_change(
    draw: st.DrawFn,
    text: str,
    start: int,
    end: int,
    inserts: tuple[int, int] | None = None,
    chars: st.SearchStrategy[str] = _ID_CHARS,
) -> str:
    """``text`` with one character of ``text[start:end]`` replaced or removed, or one of
    ``chars`` inserted at a position in ``inserts`` (first, last; default: start to end)."""
    char = draw(chars)
    if draw(st.booleans()):
        first, last = inserts or (start, end)
        position = draw(st.integers(first, last))
        return text[:position] + char + text[position:]
    position = draw(st.integers(start, end - 1))
    if draw(st.booleans()):
        return text[:position] + char + text[position + 1 :]
    return text[:position] + text[position + 1 :]


@PROPERTY
@given(resource_id=st.text(_ID_CHARS, min_size=1, max_size=40), data=st.data())
def test_an_id_that_differs_from_the_resource_in_one_character_never_matches(
    resource_id: str, data: st.DataObject
) -> None:
    resource = ResourceIdentity(SG, resource_id)
    key = data.draw(one_char_change(resource_id, 0, len(resource_id)))
    assume(key != resource_id)

    assert key_matches(
        resource_id, ExceptionFormat.RESOURCE_ID, resource, account_id=ACCOUNT, region=REGION
    )
    assert not key_matches(
        key, ExceptionFormat.RESOURCE_ID, resource, account_id=ACCOUNT, region=REGION
    )


@PROPERTY
@given(
    name=st.text(_NAME_CHARS, min_size=1, max_size=30),
    shape=st.sampled_from(
        [
            ("AWS::SNS::Topic", "sns", ""),
            ("AWS::EC2::Volume", "ec2", "volume/"),
            (SG, "ec2", "security-group/"),
            ("AWS::IAM::Role", "iam", "role/service-role/"),
            ("AWS::DynamoDB::Table", "dynamodb", "table/"),
        ]
    ),
    regional=st.booleans(),
    data=st.data(),
)
def test_an_arn_that_differs_from_the_resource_in_one_compared_character_never_matches(
    name: str, shape: tuple[str, str, str], regional: bool, data: st.DataObject
) -> None:
    # Each ARN has its type's service and resource path (an ARN carries its type).
    resource_type, service, resource_path = shape
    region, account = (REGION, ACCOUNT) if regional else ("", "")
    head = f"arn:aws:{service}:"
    arn = f"{head}{region}:{account}:{resource_path}{name}"
    resource = ResourceIdentity(resource_type, name)
    scope = len(head) - 1  # ":region:account:"
    scope_end = len(head) + len(region) + len(account) + 2
    tail = len(arn) - len(name) - (1 if resource_path else 0)  # "[/]name"
    # The changed character is never a separator (":" or "/"): those change the ARN's
    # structure, which §5 reads, not a compared character. Insertions stay inside the
    # compared parts: one just before ":region" or "/name", or
    # just after "account:", would land in the service or the resource path.
    key = data.draw(
        st.one_of(
            one_char_change(arn, 0, 8, inserts=(0, 7), chars=_NAME_CHARS),  # "arn:aws:"
            one_char_change(
                arn, scope, scope_end, inserts=(scope + 1, scope_end - 1), chars=_NAME_CHARS
            ),
            one_char_change(arn, tail, len(arn), inserts=(tail + 1, len(arn)), chars=_NAME_CHARS),
        )
    )
    assume(key != arn)

    assert key_matches(
        arn, ExceptionFormat.RESOURCE_ARN, resource, account_id=ACCOUNT, region=REGION
    )
    assert not key_matches(
        key, ExceptionFormat.RESOURCE_ARN, resource, account_id=ACCOUNT, region=REGION
    )
