"""The in-memory store's Query reads one partition, in key order, as DynamoDB's does."""

from __future__ import annotations

from adapters.in_memory import InMemoryExceptionStore
from domain.records import ExceptionRecord, RecordKey

A = "111111111111"
B = "222222222222"


def _record(account: str, rule_id: int, key: str) -> ExceptionRecord:
    return ExceptionRecord(RecordKey(account, rule_id, key), "eu-west-1")


def test_list_for_returns_only_that_account_and_rule_in_key_order() -> None:
    store = InMemoryExceptionStore()
    for record in (
        _record(A, 1, "sg-b"),
        _record(A, 2, "sg-x"),
        _record(B, 1, "sg-y"),
        _record(A, 1, "sg-a"),
    ):
        store.add(record)

    assert [r.key for r in store.list_for(A, 1)] == ["sg-a", "sg-b"]
    assert [r.key for r in store.list_for(B, 2)] == []


def test_replacing_a_record_keeps_one_copy_in_its_partition() -> None:
    store = InMemoryExceptionStore()
    store.add(_record(A, 1, "sg-a"))
    store.add(ExceptionRecord(RecordKey(A, 1, "sg-a"), "eu-west-1", status="EXPIRED"))

    assert [r.status for r in store.list_for(A, 1)] == ["EXPIRED"]
