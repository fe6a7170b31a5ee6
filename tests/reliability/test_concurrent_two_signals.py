"""Both signals of each deletion, raced by eight workers: one change per deletion, never two.

Every deleted resource sends two events: the compliance change of its (annotating) rule and
AWS Config's configuration item change. Eight workers, each with its own DynamoDB client on
the atomic moto server (as eight Lambda instances would be), take the events in a random
order. Whichever event of a deletion is written first makes the change; the other finds the
member recorded (or the record closed) and is a duplicate, also when both are decided from
the same read and race to the conditional write. The History is the proof: one entry per
member, one close, one TTL write.
"""

from __future__ import annotations

import json
import queue
import random
import threading
from typing import TYPE_CHECKING, Any

import pytest
from attrs import define, field
from reliability_aws import EXCEPTIONS_TABLE, RULES_TABLE, WriteLog

from adapters.aws import DynamoExceptionStore, DynamoRuleCatalog
from adapters.in_memory import FixedClock, InMemoryInventory
from application.handle_change import HandleComplianceChange
from domain.outcomes import Outcome
from domain.records import CLOSED_STATUS, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import configuration_item_event, deletion_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
REGION = "eu-west-1"
VOLUME = "AWS::EC2::Volume"
SG = "AWS::EC2::SecurityGroup"
WORKERS = 8
MEMBERS = 16
SEEDS = range(8)
MAX_DELIVERIES = 25
JOIN_TIMEOUT = 60.0


@define
class Delivery:
    resource_type: str
    resource_id: str
    body: str
    attempt: int = 1


@define
class Race:
    deliveries: queue.Queue[Delivery]
    inventory: InMemoryInventory
    outcomes: list[Outcome] = field(factory=list)
    errors: list[str] = field(factory=list)
    lock: threading.Lock = field(factory=threading.Lock)


def _both_signals(rule: Rule, resource_type: str, resource_id: str) -> list[Delivery]:
    compliance = deletion_event(
        account_id=ACCOUNT,
        region=REGION,
        rule_name=rule.name,
        resource_type=resource_type,
        resource_id=resource_id,
        event_id=f"cc-{resource_id}",
    )
    item = configuration_item_event(
        account_id=ACCOUNT,
        region=REGION,
        resource_type=resource_type,
        resource_id=resource_id,
        event_id=f"ci-{resource_id}",
    )
    return [
        Delivery(resource_type, resource_id, json.dumps(compliance)),
        Delivery(resource_type, resource_id, json.dumps(item)),
    ]


def _worker(client: DynamoDBClient, race: Race, start: threading.Barrier) -> None:
    handle = HandleComplianceChange(
        DynamoRuleCatalog(client, RULES_TABLE),
        DynamoExceptionStore(client, EXCEPTIONS_TABLE),
        race.inventory,
        FixedClock(),
    )
    start.wait(timeout=JOIN_TIMEOUT)
    while True:
        try:
            delivery = race.deliveries.get_nowait()
        except queue.Empty:
            return
        race.inventory.put(
            ACCOUNT, REGION, delivery.resource_type, delivery.resource_id, deleted=True
        )
        result = handle.execute(delivery.body)
        with race.lock:
            race.outcomes.append(result.outcome)
        if result.outcome.fails_record:
            if delivery.attempt >= MAX_DELIVERIES:
                with race.lock:
                    race.errors.append(f"{delivery.resource_id}: {result.reason}")
                continue
            delivery.attempt += 1
            race.deliveries.put(delivery)


def _history(client: DynamoDBClient, rule_id: int, key: str) -> tuple[dict[str, Any], list[Any]]:
    item = client.get_item(
        TableName=EXCEPTIONS_TABLE,
        Key={"AccountId_RuleId": {"S": f"{ACCOUNT}_{rule_id}"}, "Exception": {"S": key}},
        ConsistentRead=True,
    )["Item"]
    return dict(item), [entry["M"] for entry in item["History"]["L"]]


@pytest.mark.moto
@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_eight_workers_apply_each_deletion_once_whichever_signal_wins(
    server_aws: list[DynamoDBClient], write_log: WriteLog, seed: int
) -> None:
    rng = random.Random(seed)
    types = frozenset({VOLUME})
    composite = Rule(
        100 + seed, f"ebs-{seed}", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE, types
    )
    simple = Rule(
        200 + seed, f"sg-{seed}", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE, frozenset({SG})
    )
    members = [f"vol-{seed:02d}{i:02d}{rng.randrange(16**6):06x}" for i in range(MEMBERS)]
    group = ",".join(members)
    sg_id = f"sg-{seed:02d}{rng.randrange(16**8):08x}"
    setup, *worker_clients = server_aws
    catalog = DynamoRuleCatalog(setup, RULES_TABLE)
    catalog.add(composite)
    catalog.add(simple)
    store = DynamoExceptionStore(setup, EXCEPTIONS_TABLE)
    store.add(ExceptionRecord(RecordKey(ACCOUNT, composite.rule_id, group), region=REGION))
    store.add(ExceptionRecord(RecordKey(ACCOUNT, simple.rule_id, sg_id), region=REGION))
    inventory = InMemoryInventory()
    for member in members:
        inventory.put(ACCOUNT, REGION, VOLUME, member)
    inventory.put(ACCOUNT, REGION, SG, sg_id)
    deliveries = [d for m in members for d in _both_signals(composite, VOLUME, m)]
    deliveries += _both_signals(simple, SG, sg_id)
    rng.shuffle(deliveries)
    pending: queue.Queue[Delivery] = queue.Queue()
    for delivery in deliveries:
        pending.put(delivery)
    race = Race(pending, inventory)
    write_log.clear()

    start = threading.Barrier(WORKERS)
    threads = [
        threading.Thread(target=_worker, args=(client, race, start), daemon=True)
        for client in worker_clients[:WORKERS]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "workers did not finish"
    assert race.errors == []

    item, history = _history(setup, composite.rule_id, group)
    assert item["ExceptionStatus"] == {"S": CLOSED_STATUS}
    recorded = [e["Member"]["S"] for e in history if e["Action"]["S"] == "member-deleted"]
    assert sorted(recorded) == sorted(members)
    assert [e["Action"]["S"] for e in history].count("closed") == 1
    assert len(history) == MEMBERS + 1

    sg_item, sg_history = _history(setup, simple.rule_id, sg_id)
    assert sg_item["ExceptionStatus"] == {"S": CLOSED_STATUS}
    assert [e["Action"]["S"] for e in sg_history] == ["closed"]

    assert race.outcomes.count(Outcome.CLOSED) == 2
    # At least one event of every deletion found nothing left to do.
    assert race.outcomes.count(Outcome.DUPLICATE) >= MEMBERS + 1
    assert write_log.ttl_writes(EXCEPTIONS_TABLE) == 2
