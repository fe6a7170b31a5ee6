"""A sweep work item as the JSON body of a queue message, and back.

A body that does not read as a work item raises `ValueError` with a one-line reason naming
the field, so that the worker fails that message alone (and, after its retries, the DLQ
keeps it).
"""

from __future__ import annotations

import json
from typing import Any

from application.sweep_report import GroupKey
from application.sweep_run_ports import SweepWork, WorkKind
from domain.records import RecordKey

__all__ = ["work_from_json", "work_to_json"]


def work_to_json(item: SweepWork) -> str:
    body: dict[str, Any] = {
        "run": item.run_id,
        "item": item.item_id,
        "kind": item.kind.value,
        "dryRun": item.dry_run,
        "segments": item.total_segments,
        "segment": item.segment,
    }
    if item.group is not None:
        body["group"] = item.group.cursor
    if item.keys:
        body["keys"] = [[k.account_id, k.rule_id, k.key] for k in item.keys]
    if item.accounts is not None:
        body["accounts"] = sorted(item.accounts)
    if item.regions is not None:
        body["regions"] = sorted(item.regions)
    return json.dumps(body, separators=(",", ":"))


def work_from_json(text: str) -> SweepWork:
    """Parse a message body; `ValueError` naming what is wrong."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"sweep message is not JSON: {error.msg}") from error
    if not isinstance(body, dict):
        raise ValueError("sweep message is not a JSON object")
    try:
        kind = WorkKind(body.get("kind"))
    except ValueError:
        raise ValueError(
            f"sweep message kind must be segment or chunk (got {body.get('kind')!r})"
        ) from None
    return SweepWork(
        run_id=_text(body, "run"),
        item_id=_text(body, "item"),
        kind=kind,
        dry_run=_flag(body, "dryRun"),
        total_segments=_count(body, "segments", minimum=1),
        segment=_count(body, "segment", minimum=0),
        group=GroupKey.from_cursor(body["group"]) if "group" in body else None,
        keys=tuple(_key(k) for k in _list(body, "keys")),
        accounts=frozenset(map(str, _list(body, "accounts"))) if "accounts" in body else None,
        regions=frozenset(map(str, _list(body, "regions"))) if "regions" in body else None,
    )


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"sweep message {name!r} must be a non-empty string (got {value!r})")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise ValueError(f"sweep message {name!r} must be true or false (got {value!r})")
    return value


def _count(body: dict[str, Any], name: str, *, minimum: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"sweep message {name!r} must be an integer >= {minimum} (got {value!r})")
    return value


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise ValueError(f"sweep message {name!r} must be a list (got {value!r})")
    return value


def _key(value: Any) -> RecordKey:
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or isinstance(value[1], bool)
        or not isinstance(value[1], int)
        or not isinstance(value[2], str)
    ):
        raise ValueError(f"sweep message key must be [account, rule id, key] (got {value!r})")
    return RecordKey(value[0], value[1], value[2])
