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


def _query(client: Any, partition: str) -> tuple[list[dict[str, Any]], int]:
    page = client.query(
        TableName=aws.REF_EXCEPTIONS,
        KeyConditionExpression="AccountId_RuleId = :p",
        ExpressionAttributeValues={":p": {"S": partition}},
    )
    return page["Items"], page["ScannedCount"]


def _queries(dataset: Dataset, partitions: list[str], *, fair: bool) -> list[Any]:
    with aws.emulated_aws(dataset, fair_queries=fair):
        client = aws.session().client("dynamodb")
        aws.load_reference_tables(client, dataset)
        return [_query(client, p) for p in partitions]


def test_fair_queries_return_the_items_and_counts_moto_returns_without_them() -> None:
    dataset = generate(400, 1)
    partitions = sorted({r.record_key.partition_key for r in dataset.records})[:20]

    fair = _queries(dataset, partitions, fair=True)

    assert fair == _queries(dataset, partitions, fair=False)
    assert [n for _, n in fair] == [
        sum(1 for r in dataset.records if r.record_key.partition_key == p) for p in partitions
    ]


def test_reference_reads_the_whole_table_for_arn_and_composite_events() -> None:
    dataset = generate(400, 3)
    with aws.emulated_aws(dataset):
        container = aws.session()
        aws.load_reference_tables(container.client("dynamodb"), dataset)
        reference = aws.reference_handler(container)
        reads = {}
        outcomes = {}
        for kind in KINDS:
            with counting() as counter:
                outcomes[kind] = {reference.handle(json.dumps(e)) for e in dataset.events[kind]}
            reads[kind] = counter.items_read[aws.REF_EXCEPTIONS] / len(dataset.events[kind])
            assert counter.items_read[aws.REF_RULES] == 50 * len(dataset.events[kind])

    assert reads[ExceptionKind.SIMPLE_ID] == 1
    assert reads[ExceptionKind.SIMPLE_ARN] == 400
    assert reads[ExceptionKind.COMPOSITE] == 400
    assert outcomes[ExceptionKind.SIMPLE_ID] == {"closed"}
    assert outcomes[ExceptionKind.COMPOSITE] == {"member-deleted"}


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


@pytest.mark.parametrize("kind", list(KINDS))
def test_reference_rejects_a_batch_of_more_than_one_message(kind: ExceptionKind) -> None:
    dataset = generate(300, 2)
    body = json.dumps(dataset.events[kind][0])
    with aws.emulated_aws(dataset):
        reference = aws.reference_handler(aws.session())
        with pytest.raises(ValueError, match="one message per invocation"):
            reference.handler({"Records": [{"body": body}, {"body": body}]})
