"""The benchmark's data set, emulation helpers and scan-based reference do what they claim."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from benchmarks import aws
from benchmarks.counting import counting
from benchmarks.data import KINDS, REGIONS, Dataset, generate
from benchmarks.wiring import in_memory_use_case
from domain.outcomes import Outcome
from domain.rules import ExceptionKind


def test_the_same_seed_gives_the_same_tables_and_events() -> None:
    first, second = generate(300, 5), generate(300, 5)

    assert first.records == second.records
    assert first.events == second.events
    assert generate(300, 5, seed=1).records != first.records


def test_data_set_spreads_records_over_accounts_rules_and_regions() -> None:
    dataset = generate(3_000, 5)

    assert dataset.size == 3_000
    assert len({r.account_id for r in dataset.records}) > 150
    assert len({r.rule_id for r in dataset.records}) == 50
    assert {r.region for r in dataset.records} == set(REGIONS)
    assert all(len(dataset.events[k]) == 5 for k in KINDS)


def test_every_event_runs_the_whole_flow_on_the_in_memory_wiring() -> None:
    dataset = generate(500, 10)
    use_case = in_memory_use_case(dataset)

    outcomes = {
        kind: {use_case.execute(json.dumps(e)).outcome for e in dataset.events[kind]}
        for kind in KINDS
    }

    assert outcomes[ExceptionKind.SIMPLE_ID] == {Outcome.CLOSED}
    assert outcomes[ExceptionKind.SIMPLE_ARN] == {Outcome.CLOSED}
    assert outcomes[ExceptionKind.COMPOSITE] == {Outcome.MEMBER_DELETED}


def _reads(dataset: Dataset, partitions: list[str], *, indexed: bool) -> list[Any]:
    """Queries of some partitions, then a paginated Scan, then the Scan after writes."""
    with aws.emulated_aws(dataset, indexed=indexed):
        client = aws.session().client("dynamodb")
        aws.load_reference_tables(client, dataset)
        results: list[Any] = [
            client.query(
                TableName=aws.REF_EXCEPTIONS,
                KeyConditionExpression="AccountId_RuleId = :p",
                ExpressionAttributeValues={":p": {"S": p}},
            )
            for p in partitions
        ]
        for round_ in range(2):
            pages = client.get_paginator("scan").paginate(
                TableName=aws.REF_EXCEPTIONS,
                FilterExpression="contains(#e, :x)",
                ExpressionAttributeNames={"#e": "Exception"},
                ExpressionAttributeValues={":x": {"S": "7"}},
                PaginationConfig={"PageSize": 37},
            )
            results.extend(pages)
            # A new item and a deleted one must show in the next Scan.
            record = dataset.records[round_]
            client.put_item(
                TableName=aws.REF_EXCEPTIONS,
                Item={"AccountId_RuleId": {"S": "999999999999_1"}, "Exception": {"S": "sg-7"}},
            )
            client.delete_item(
                TableName=aws.REF_EXCEPTIONS,
                Key={
                    "AccountId_RuleId": {"S": record.record_key.partition_key},
                    "Exception": {"S": record.key},
                },
            )
    for result in results:
        result.pop("ResponseMetadata", None)
    return results


def test_indexed_tables_return_what_moto_returns_without_them() -> None:
    dataset = generate(400, 1)
    partitions = sorted({r.record_key.partition_key for r in dataset.records})[:20]

    indexed = _reads(dataset, partitions, indexed=True)

    assert indexed == _reads(dataset, partitions, indexed=False)
    assert [q["ScannedCount"] for q in indexed[: len(partitions)]] == [
        sum(1 for r in dataset.records if r.record_key.partition_key == p) for p in partitions
    ]
    assert len(indexed) > len(partitions) + 20  # the Scans ran over many pages


def test_reference_reads_the_whole_table_for_arn_and_composite_events() -> None:
    dataset = generate(400, 3)
    with aws.emulated_aws(dataset):
        container = aws.session()
        aws.load_reference_tables(container.client("dynamodb"), dataset)
        reference = aws.reference_handler(container)
        reads = {}
        outcomes = {}
        calls = {}
        for kind in KINDS:
            with counting() as counter:
                outcomes[kind] = {reference.handle(json.dumps(e)) for e in dataset.events[kind]}
            events = len(dataset.events[kind])
            reads[kind] = counter.items_read[aws.REF_EXCEPTIONS] / events
            calls[kind] = counter
            assert counter.items_read[aws.REF_RULES] == 50 * events
            # The seed's STS calls, with a new client every event.
            assert counter.operations("sts") == {"AssumeRole": events, "GetCallerIdentity": events}

    # The seed design: a Resource-ID event reads only the rules (50 items, then one
    # UpdateItem: 2 DynamoDB calls); the others Scan the whole table.
    assert reads[ExceptionKind.SIMPLE_ID] == 0
    assert calls[ExceptionKind.SIMPLE_ID].service_calls("dynamodb") == 2 * 3
    assert reads[ExceptionKind.SIMPLE_ARN] == 400
    assert reads[ExceptionKind.COMPOSITE] == 400
    assert outcomes[ExceptionKind.SIMPLE_ID] == {"closed"}
    # It closes a composite on its first deleted member.
    assert outcomes[ExceptionKind.COMPOSITE] == {"closed"}


def test_config_answers_report_deletion_only_for_deleted_resources() -> None:
    dataset = generate(300, 1)
    deleted = dataset.deleted[-1]
    existing = dataset.existing[0]
    with aws.emulated_aws(dataset):
        config = boto3.session.Session(region_name="eu-west-1").client("config")
        found = config.list_discovered_resources(
            resourceType=deleted.resource_type,
            resourceIds=[deleted.resource_id, existing.resource_id, "vol-unknown"],
            includeDeletedResources=True,
        )["resourceIdentifiers"]

    by_id = {r["resourceId"]: r for r in found}
    assert "resourceDeletionTime" in by_id[deleted.resource_id]
    assert "resourceDeletionTime" not in by_id[existing.resource_id]
    assert "vol-unknown" not in by_id


def test_counting_sees_calls_of_clients_made_inside_the_emulation() -> None:
    dataset = generate(300, 1)
    with aws.emulated_aws(dataset):
        client = aws.session().client("dynamodb")
        aws.load_reference_tables(client, dataset)
        with counting() as counter:
            client.scan(TableName=aws.REF_RULES)
            client.scan(TableName=aws.REF_RULES)

    assert counter.operations("dynamodb") == {"Scan": 2}
    assert counter.items_read[aws.REF_RULES] == 100


def test_counting_puts_a_batch_reads_items_under_the_table_they_came_from() -> None:
    dataset = generate(300, 1)
    with aws.emulated_aws(dataset):
        client = aws.session().client("dynamodb")
        aws.load_reference_tables(client, dataset)
        keys = client.scan(TableName=aws.REF_RULES, Limit=30, ProjectionExpression="RuleId")
        with counting() as counter:
            client.batch_get_item(RequestItems={aws.REF_RULES: {"Keys": keys["Items"]}})

    assert counter.operations("dynamodb") == {"BatchGetItem": 1}
    assert dict(counter.items_read) == {aws.REF_RULES: 30}


@pytest.mark.parametrize("kind", list(KINDS))
def test_reference_rejects_a_batch_of_more_than_one_message(kind: ExceptionKind) -> None:
    dataset = generate(300, 2)
    body = json.dumps(dataset.events[kind][0])
    with aws.emulated_aws(dataset):
        reference = aws.reference_handler(aws.session())
        with pytest.raises(ValueError, match="one message per invocation"):
            reference.handler({"Records": [{"body": body}, {"body": body}]})
