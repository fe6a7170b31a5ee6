"""Eight workers racing on one composite lose no member and close it exactly once.

Each worker is a thread with its own boto3 session and client on a shared moto server, as
eight Lambda instances would be. The deletion events of all 40 members arrive in a random
order, some of them twice (SQS delivers at least once) and some re-emitted under a new
event id (Config may notify twice). A resource is marked deleted in the inventory only when
its event is taken, so the Config call of one event confirms just the members whose events
are already in flight: the workers' writes interleave member by member. A record that fails
(a race lost more times than the use case retries) goes back on the queue, as SQS would
redeliver it.
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
from entrypoints.local.sample_events import deletion_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ACCOUNT = "111122223333"
REGION = "eu-west-1"
VOLUME = "AWS::EC2::Volume"
WORKERS = 8
MEMBERS = 40
SEEDS = range(20)
MAX_DELIVERIES = 25
JOIN_TIMEOUT = 60.0


@define
class Delivery:
    """One SQS delivery of an event about one member."""

    member: str
    body: str
    attempt: int = 1


@define
class Race:
    """The shared queue and what the workers saw."""

    deliveries: queue.Queue[Delivery]
    inventory: InMemoryInventory
    outcomes: list[Outcome] = field(factory=list)
    errors: list[str] = field(factory=list)
    lock: threading.Lock = field(factory=threading.Lock)


def _deliveries(rule_name: str, members: list[str], rng: random.Random) -> list[Delivery]:
    deliveries = []
    for member in members:
        event = deletion_event(
            account_id=ACCOUNT,
            region=REGION,
            rule_name=rule_name,
            resource_type=VOLUME,
            resource_id=member,
            event_id=f"evt-{member}",
        )
        body = json.dumps(event)
        deliveries.append(Delivery(member, body))
        if rng.random() < 0.4:  # the same message delivered again
            deliveries.append(Delivery(member, body))
        if rng.random() < 0.15:  # a second notification about the same deletion
            deliveries.append(Delivery(member, json.dumps({**event, "id": f"again-{member}"})))
    rng.shuffle(deliveries)
    return deliveries


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
        # The resource is gone by the time its event is emitted.
        race.inventory.put(ACCOUNT, REGION, VOLUME, delivery.member, deleted=True)
        result = handle.execute(delivery.body)
        with race.lock:
            race.outcomes.append(result.outcome)
        if result.outcome.fails_record:
            if delivery.attempt >= MAX_DELIVERIES:
                with race.lock:
                    race.errors.append(f"{delivery.member}: {result.reason}")
                continue
            race.deliveries.put(Delivery(delivery.member, delivery.body, delivery.attempt + 1))


def _item(client: DynamoDBClient, rule_id: int, key: str) -> dict[str, Any]:
    response = client.get_item(
        TableName=EXCEPTIONS_TABLE,
        Key={"AccountId_RuleId": {"S": f"{ACCOUNT}_{rule_id}"}, "Exception": {"S": key}},
        ConsistentRead=True,
    )
    return dict(response["Item"])


@pytest.mark.moto
@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_eight_workers_close_a_forty_member_composite_once_and_lose_no_member(
    server_aws: list[DynamoDBClient], write_log: WriteLog, seed: int
) -> None:
    rng = random.Random(seed)
    rule = Rule(seed + 1, f"ebs-{seed}", ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE)
    members = [f"vol-{seed:02d}{i:02d}{rng.randrange(16**6):06x}" for i in range(MEMBERS)]
    key = ",".join(members)
    setup, *worker_clients = server_aws
    DynamoRuleCatalog(setup, RULES_TABLE).add(rule)
    DynamoExceptionStore(setup, EXCEPTIONS_TABLE).add(
        ExceptionRecord(RecordKey(ACCOUNT, rule.rule_id, key), region=REGION)
    )
    inventory = InMemoryInventory()
    for member in members:
        inventory.put(ACCOUNT, REGION, VOLUME, member)
    deliveries: queue.Queue[Delivery] = queue.Queue()
    for delivery in _deliveries(rule.name, members, rng):
        deliveries.put(delivery)
    race = Race(deliveries, inventory)
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

    item = _item(setup, rule.rule_id, key)
    assert item["ExceptionStatus"] == {"S": CLOSED_STATUS}
    assert sorted(item["DeletedMembers"]["SS"]) == sorted(members)
    history = [entry["M"] for entry in item["History"]["L"]]
    member_entries = [e["Member"]["S"] for e in history if e["Action"]["S"] == "member-deleted"]
    assert sorted(member_entries) == sorted(members)
    assert sum(1 for e in history if e["Action"]["S"] == "closed") == 1
    assert len(history) == MEMBERS + 1
    assert race.outcomes.count(Outcome.CLOSED) == 1
    assert write_log.ttl_writes(EXCEPTIONS_TABLE) == 1
