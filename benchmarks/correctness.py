"""Correctness: on the same events, the records each design changed rightly and wrongly.

The data set (benchmarks/data.py) is given the cases that separate exact matching from the
seed's: for each event of the ARN and composite kinds, a record in the same partition and
region whose key holds the resource's ID as a substring but names another resource (for
the Resource-ID kind too), and events about deleted resources that have no exception. A
change is right when it is the one the event calls for (its own record closed; a
composite's member recorded, the record left open while other members exist) and wrong
otherwise (a decoy closed, a record created, a composite closed on its first member).
"""

from __future__ import annotations

import json
from typing import Any

from attrs import evolve, frozen

from benchmarks import aws
from benchmarks.data import KINDS, RESOURCE_TYPES, Dataset, DeletedResource, generate
from benchmarks.report import Met, Row, Section, not_measured
from benchmarks.wiring import in_memory_inventory
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionKind
from entrypoints.local.sample_events import deletion_event

__all__ = ["Changes", "correctness", "measure_changes", "with_decoys"]

TITLE = "Records changed rightly and wrongly"
_OTHER_REGION = {"eu-west-1": "us-east-1", "us-east-1": "eu-west-1"}


@frozen
class Changes:
    """Records one design changed on the data set's events."""

    right: int
    wrong: int
    expected: int


def with_decoys(dataset: Dataset, unknown_per_kind: int = 3) -> Dataset:
    """``dataset`` with the records and events that only exact matching gets right."""
    rules = {r.rule_id: r for r in dataset.rules}
    by_key = {r.record_key: r for r in dataset.records}
    decoys: list[ExceptionRecord] = []
    for kind in KINDS:
        for event in dataset.events[kind]:
            detail = event["detail"]
            account, region = detail["awsAccountId"], detail["awsRegion"]
            rule = next(r for r in rules.values() if r.name == detail["configRuleName"])
            resource_id = detail["resourceId"]
            if kind is ExceptionKind.SIMPLE_ID:
                key = f"{resource_id}-old"
            elif kind is ExceptionKind.SIMPLE_ARN:
                key = f"arn:aws:ec2:{region}:{account}:instance/{resource_id}-old"
            else:
                key = f"{resource_id}-old,vol-decoy"
            decoy = RecordKey(account, rule.rule_id, key)
            if decoy not in by_key:
                decoys.append(ExceptionRecord(decoy, region=region, status="ACTIVE"))
    extra_events = []
    extra_deleted = []
    id_rule = next(r for r in dataset.rules if r.kind is ExceptionKind.SIMPLE_ID)
    for n in range(unknown_per_kind):
        account, region = "210000000000", "eu-west-1"
        resource_id = f"sg-unknown{n:08d}"
        extra_deleted.append(
            DeletedResource(account, region, RESOURCE_TYPES[ExceptionKind.SIMPLE_ID], resource_id)
        )
        extra_events.append(
            deletion_event(
                account_id=account,
                region=region,
                rule_name=id_rule.name,
                resource_type=RESOURCE_TYPES[ExceptionKind.SIMPLE_ID],
                resource_id=resource_id,
                event_id=f"bench-unknown-{n:04d}",
            )
        )
    events = dict(dataset.events)
    events[ExceptionKind.SIMPLE_ID] = (*events[ExceptionKind.SIMPLE_ID], *extra_events)
    return evolve(
        dataset,
        records=(*dataset.records, *decoys),
        events=events,
        deleted=(*dataset.deleted, *extra_deleted),
    )


def _items(client: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[(item["AccountId_RuleId"]["S"], item["Exception"]["S"])] = item
    return items


def _expected(dataset: Dataset) -> dict[tuple[str, str], bool]:
    """The records the events should change: key -> whether it should end closed."""
    rules = {r.name: r for r in dataset.rules}
    records = {(r.record_key.partition_key, r.key): r for r in dataset.records}
    expected: dict[tuple[str, str], bool] = {}
    for kind in KINDS:
        for event in dataset.events[kind]:
            detail = event["detail"]
            rule = rules[detail["configRuleName"]]
            partition = f"{detail['awsAccountId']}_{rule.rule_id}"
            for (p, key), record in records.items():
                if p != partition or record.region != detail["awsRegion"]:
                    continue
                members = key.split(",") if kind is ExceptionKind.COMPOSITE else [key]
                names = [m.rsplit("/", 1)[-1] for m in members]
                if detail["resourceId"] in names:
                    expected[(p, key)] = kind is not ExceptionKind.COMPOSITE
    return expected


def _score(
    before: dict[tuple[str, str], dict[str, Any]],
    after: dict[tuple[str, str], dict[str, Any]],
    expected: dict[tuple[str, str], bool],
) -> Changes:
    right = wrong = 0
    for key, item in after.items():
        if before.get(key) == item:
            continue
        closed = item.get("ExceptionStatus", {}).get("S") == "RESOURCE_DELETED"
        if key in expected and closed == expected[key]:
            right += 1
        else:
            wrong += 1
    return Changes(right, wrong, len(expected))


def measure_changes(dataset: Dataset) -> tuple[Changes, Changes]:
    """(ELM's, the reference's) changes on every event of ``dataset``."""
    expected = _expected(dataset)
    with aws.emulated_aws(dataset):
        container = aws.session()
        client = container.client("dynamodb")
        aws.load_elm_tables(client, dataset)
        aws.load_reference_tables(client, dataset)
        use_case = aws.elm_use_case(client, in_memory_inventory(dataset))
        reference = aws.reference_handler(container)
        elm_before = _items(client, aws.ELM_EXCEPTIONS)
        ref_before = _items(client, aws.REF_EXCEPTIONS)
        for event in dataset.all_events():
            use_case.execute(json.dumps(event))
            reference.handle(json.dumps(event))
        elm = _score(elm_before, _items(client, aws.ELM_EXCEPTIONS), expected)
        ref = _score(ref_before, _items(client, aws.REF_EXCEPTIONS), expected)
    return elm, ref


def correctness(size: int, events_per_kind: int) -> Section:
    """The figure: rightly and wrongly changed records, ELM beside the reference."""
    method = (
        f"A {size:,}-record table and {events_per_kind} deletion events of each kind "
        "(benchmarks/data.py), with the decoys of benchmarks/correctness.py: keys that hold "
        "the resource's ID as a substring but name another resource, and deleted resources "
        "without an exception. Both designs run every event on their own copy of the "
        "tables; each changed item is compared with the change the event calls for."
    )
    unavailable = aws.elm_adapters_available()
    if unavailable:
        return not_measured(TITLE, method, unavailable)
    elm, ref = measure_changes(with_decoys(generate(size, events_per_kind)))
    rows = (
        Row(
            "records changed rightly (of those the events call for)",
            f"{elm.right} of {elm.expected}",
            f"{ref.right} of {ref.expected}",
            target="all",
            met=Met.of(elm.right == elm.expected),
        ),
        Row(
            "records changed wrongly",
            f"{elm.wrong}",
            f"{ref.wrong}",
            target="0",
            met=Met.of(elm.wrong == 0),
        ),
    )
    notes = (
        "The reference's wrong changes: decoys closed by its substring filter, items "
        "created by its unread UpdateItem for resources without an exception, and "
        "composites closed on their first deleted member.",
    )
    return Section(TITLE, method, rows, notes)
