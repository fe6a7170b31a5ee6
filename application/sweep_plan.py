"""What the sweep plans: which open records are in scope, their groups, and the work items.

A record is grouped by account, region and resource type (one AWS Config call asks about one
group), or counted and listed when it cannot be asked about: unknown type, bad key. A
group's records are then packed into chunks that each fill one Config call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import assert_never

from attrs import define, field, frozen

from application.ports import MAX_IDS_PER_CALL
from application.sweep_report import GroupKey, SweepRequest, SweepStop
from domain.arn_formats import ARN_FORMATS
from domain.matching import Arn
from domain.records import ExceptionRecord
from domain.rules import ExceptionFormat, ExceptionKind, Rule

__all__ = [
    "Plan",
    "Unaskable",
    "WorkItem",
    "asks_for",
    "chunks",
    "in_scope",
    "resource_type_of",
    "resume_order",
    "unknown_type_reason",
]


@frozen
class WorkItem:
    """An open record to confirm, and what to ask Config about: (key or member, ID or name)."""

    record: ExceptionRecord
    rule: Rule
    asks: tuple[tuple[str, str], ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for _, i in self.asks))


@define
class Plan:
    """What the Scan pass found: the groups to ask about, and whether it was cut short."""

    groups: dict[GroupKey, list[WorkItem]] = field(factory=dict)
    scanned: int = 0
    stopped: SweepStop | None = None
    scan_failure: str | None = None


def in_scope(record: ExceptionRecord, request: SweepRequest) -> bool:
    return (request.accounts is None or record.account_id in request.accounts) and (
        request.regions is None or record.region in request.regions
    )


def resource_type_of(record: ExceptionRecord, rule: Rule) -> str | None:
    """The record's own type, else the rule's only type; never a guess."""
    if record.resource_type:
        return record.resource_type
    if len(rule.resource_types) == 1:
        return next(iter(rule.resource_types))
    return None


def unknown_type_reason(rule: Rule) -> str:
    if not rule.resource_types:
        return f"no ResourceType on the record and none for rule {rule.name!r}"
    listed = ", ".join(sorted(rule.resource_types))
    return f"no ResourceType on the record and rule {rule.name!r} lists several ({listed})"


class Unaskable(ValueError):
    """A key the sweep cannot ask AWS Config about; the message says why."""


def asks_for(
    record: ExceptionRecord, rule: Rule, resource_type: str
) -> tuple[tuple[str, str], ...]:
    """(key or member, ID or name to ask Config about) for each open one; `Unaskable`."""
    match rule.kind:
        case ExceptionKind.SIMPLE_ID | ExceptionKind.SIMPLE_ARN:
            keys: tuple[str, ...] = (record.key,)
        case ExceptionKind.COMPOSITE:
            keys = record.open_members()
        case _:
            assert_never(rule.kind)
    return tuple(
        (key, _resource_id(key, rule.exception_format, record, resource_type)) for key in keys
    )


def _resource_id(
    key: str, exception_format: ExceptionFormat, record: ExceptionRecord, resource_type: str
) -> str:
    """What Config is asked for, by ID then by name: the key, or an ARN's resource part."""
    if exception_format is ExceptionFormat.RESOURCE_ID:
        return key
    arn = Arn.parse(key)
    if arn is None:
        raise Unaskable(f"{key!r} is not a well-formed ARN")
    if arn.account not in ("", record.account_id):
        raise Unaskable(f"ARN {key!r} names account {arn.account}, the record {record.account_id}")
    if arn.region not in ("", record.region):
        raise Unaskable(f"ARN {key!r} names region {arn.region}, the record {record.region}")
    # The same ARN shapes as the event path (domain.arn_formats): an ARN carries its type.
    shape = ARN_FORMATS.get(resource_type)
    if shape is None:
        return key  # only an ID equal to the ARN (load balancers) can confirm it
    if arn.service != shape.service or not arn.resource.startswith(shape.prefix):
        raise Unaskable(f"ARN {key!r} is not the ARN of a {resource_type}")
    rest = arn.resource[len(shape.prefix) :]
    return rest.rsplit("/", 1)[-1] if shape.path else rest


def chunks(items: Sequence[WorkItem]) -> list[list[WorkItem]]:
    """Records packed so that each batch's IDs fill one Config call (a larger record alone)."""
    batches: list[list[WorkItem]] = []
    current: list[WorkItem] = []
    ids: set[str] = set()
    for item in items:
        merged = ids | set(item.ids)
        if current and len(merged) > MAX_IDS_PER_CALL:
            batches.append(current)
            current, merged = [], set(item.ids)
        current.append(item)
        ids = merged
    if current:
        batches.append(current)
    return batches


def resume_order(groups: Iterable[GroupKey], resume_from: GroupKey | None) -> list[GroupKey]:
    """The groups from ``resume_from`` on, then the ones before it (a run wraps around)."""
    ordered = list(groups)
    if resume_from is None:
        return ordered
    return [g for g in ordered if g >= resume_from] + [g for g in ordered if g < resume_from]
