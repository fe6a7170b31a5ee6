"""Scenario files for `elm simulate`: rules, exceptions, a Config inventory and events, in YAML.

A scenario is read into domain values here, at the boundary, so that the simulation runs on
exactly what production runs on. Every problem is one line naming the file and the path of the
bad value, e.g. ``estate.yaml: exceptions[2].Region is missing``. README.md ("Writing a
scenario") documents the format; examples/ holds scenarios to start from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from application.reconcile import SweepOutcome
from domain.events import is_account_id, is_region_name
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey, split_members
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.composition.settings import DEFAULT_RETENTION_DAYS, Settings
from entrypoints.local.sample_events import compliance_change_event, configuration_item_event
from entrypoints.local.scenario import fields as read
from entrypoints.local.scenario.model import (
    DEFAULT_START,
    Deletion,
    InventoryResource,
    Scenario,
    ScenarioError,
    ScenarioEvent,
    SweepStep,
)

__all__ = ["load_scenario", "parse_scenario"]

_MAX_RETENTION_DAYS = 3650
_TOP_LEVEL = ("description", "settings", "rules", "exceptions", "inventory", "events", "sweep")
_EVENT_FORMS = ("delete", "event", "file")
# What a short-form `delete:` sends: the rule's report (the default) or AWS Config's record.
_SIGNALS = ("compliance-change", "configuration-item")


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raise `ScenarioError` with a one-line reason."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{source}: cannot be read ({read.one_line(error)})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: is not valid YAML ({read.yaml_reason(error)})") from None
    return parse_scenario(document, source=source, base_dir=path.parent)


def parse_scenario(document: object, *, source: str, base_dir: Path) -> Scenario:
    """Validate a decoded scenario; ``file:`` events are read relative to ``base_dir``."""
    try:
        return _Parser(base_dir).scenario(document, source)
    except read.Problem as problem:
        raise ScenarioError(f"{source}: {problem}") from None


class _Parser:
    def __init__(self, base_dir: Path) -> None:
        self._base_dir = base_dir

    def scenario(self, document: object, source: str) -> Scenario:
        if document is None:
            read.fail("", "the file is empty")
        top = read.mapping(document, "", what="the file")
        read.known(top, "", _TOP_LEVEL)
        description = read.opt_str(top, "description", "")
        settings, start = _settings(top.get("settings"), "settings")
        rules = _rules(read.list_of(top, "rules", ""))
        exceptions = _exceptions(read.list_of(top, "exceptions", ""), rules)
        resources, failing = _inventory(top.get("inventory"), "inventory")
        if top.get("events") is None:
            read.fail("events", "is missing: a scenario needs at least one event")
        events = tuple(
            self._event(item, f"events[{i}]", i + 1)
            for i, item in enumerate(read.list_of(top, "events", ""))
        )
        if not events:
            read.fail("events", "is empty: a scenario needs at least one event")
        return Scenario(
            source=source,
            settings=settings,
            start=start,
            rules=rules,
            exceptions=exceptions,
            resources=resources,
            failing_accounts=failing,
            events=events,
            description=description,
            sweep=_sweep(top.get("sweep"), "sweep"),
        )

    def _event(self, item: object, path: str, number: int) -> ScenarioEvent:
        entry = read.mapping(item, path)
        read.known(entry, path, (*_EVENT_FORMS, "expect", "note"))
        forms = [f for f in _EVENT_FORMS if f in entry]
        if len(forms) != 1:
            read.fail(
                path, f"must have exactly one of {', '.join(_EVENT_FORMS)} (got {len(forms)})"
            )
        form = forms[0]
        expect = _expect(entry, path)
        note = read.opt_str(entry, "note", path)
        deletion: Deletion | None = None
        match form:
            case "delete":
                body, deletion = _short_delete(entry["delete"], f"{path}.delete", number)
            case "event":
                body = _raw_event(entry["event"], f"{path}.event")
            case _:
                body = self._file(entry["file"], f"{path}.file")
        return ScenarioEvent(path, body, deletion, expect, note)

    def _file(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            read.fail(path, f"must be a path to a JSON event file (got {read.type_name(value)})")
        file = self._base_dir / value
        try:
            # Sent as is: a malformed file is the `invalid` outcome, not a scenario error.
            return file.read_text(encoding="utf-8")
        except FileNotFoundError:
            read.fail(path, f"names a file that does not exist ({file})")
        except (OSError, UnicodeDecodeError) as error:
            read.fail(path, f"cannot be read ({read.one_line(error)})")


def _settings(value: object, path: str) -> tuple[Settings, datetime]:
    if value is None:
        return Settings(), DEFAULT_START
    entry = read.mapping(value, path)
    read.known(
        entry, path, ("rule_prefix", "allowed_accounts", "retention_days", "dry_run", "start_time")
    )
    retention = entry.get("retention_days", DEFAULT_RETENTION_DAYS)
    if not read.is_int(retention) or not 1 <= retention <= _MAX_RETENTION_DAYS:
        read.fail(
            f"{path}.retention_days",
            f"must be a whole number of days from 1 to {_MAX_RETENTION_DAYS} "
            f"(got {read.show(retention)})",
        )
    allowed: frozenset[str] | None = None
    if entry.get("allowed_accounts") is not None:
        raw = entry["allowed_accounts"]
        if not isinstance(raw, list):
            read.fail(
                f"{path}.allowed_accounts",
                f"must be a list of account ids (got {read.type_name(raw)})",
            )
        allowed = frozenset(
            read.account_value(a, f"{path}.allowed_accounts[{i}]") for i, a in enumerate(raw)
        )
    settings = Settings(
        rule_prefix=_rule_prefix(entry.get("rule_prefix"), f"{path}.rule_prefix"),
        retention_days=retention,
        allowed_accounts=allowed,
        dry_run=read.opt_bool(entry, "dry_run", path, default=False),
    )
    return settings, _start_time(entry.get("start_time"), f"{path}.start_time")


def _rule_prefix(value: object, path: str) -> str:
    """The prefix, empty in PROD (so an empty string is fine here, unlike elsewhere)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        read.fail(path, f"must be a string (got {read.type_name(value)})")
    return value.strip()


def _start_time(value: object, path: str) -> datetime:
    if value is None:
        return DEFAULT_START
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            read.fail(
                path, f"must be an ISO-8601 time such as 2026-03-04T10:15:30Z (got {value!r})"
            )
    if not isinstance(value, datetime):
        read.fail(path, f"must be an ISO-8601 time (got {read.type_name(value)})")
    if value.tzinfo is None:
        read.fail(path, "must give its timezone, e.g. 2026-03-04T10:15:30Z")
    return value.astimezone(UTC)


def _rules(items: list[Any]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen_ids: dict[int, str] = {}
    seen_names: dict[str, str] = {}
    for i, item in enumerate(items):
        path = f"rules[{i}]"
        entry = read.mapping(item, path)
        read.known(
            entry, path, ("RuleId", "RuleName", "ExceptionFormat", "ExceptionType", "ResourceTypes")
        )
        rule_id = read.rule_id(entry, path)
        name = read.req_str(entry, "RuleName", path)
        rule = Rule(
            rule_id=rule_id,
            name=name,
            exception_format=read.choice(entry, "ExceptionFormat", path, ExceptionFormat),
            exception_type=read.choice(entry, "ExceptionType", path, ExceptionType),
            resource_types=frozenset(read.opt_str_list(entry, "ResourceTypes", path)),
        )
        if rule_id in seen_ids:
            read.fail(f"{path}.RuleId", f"{rule_id} is already used by {seen_ids[rule_id]}")
        if name in seen_names:
            read.fail(f"{path}.RuleName", f"{name!r} is already used by {seen_names[name]}")
        seen_ids[rule_id] = path
        seen_names[name] = path
        rules.append(rule)
    return tuple(rules)


def _exceptions(items: list[Any], rules: Sequence[Rule]) -> tuple[ExceptionRecord, ...]:
    by_id = {r.rule_id: r for r in rules}
    records: list[ExceptionRecord] = []
    seen: dict[RecordKey, str] = {}
    for i, item in enumerate(items):
        path = f"exceptions[{i}]"
        entry = read.mapping(item, path)
        read.known(
            entry,
            path,
            (
                "AccountId_RuleId",
                "AccountId",
                "RuleId",
                "Exception",
                "Region",
                "ExceptionStatus",
                "ResourceType",
                "DeletedMembers",
                "LastModifiedBy",
                "UpdateTimeStamp",
                "TTL",
            ),
        )
        account_id, rule_id = _partition(entry, path)
        if rule_id not in by_id:
            read.fail(f"{path}.RuleId", f"{rule_id} is not one of the scenario's rules")
        key = read.req_str(entry, "Exception", path)
        region = read.req_str(entry, "Region", path)
        if not is_region_name(region):
            read.fail(f"{path}.Region", f"is not a region name (got {region!r})")
        deleted = read.opt_str_list(entry, "DeletedMembers", path)
        if deleted:
            if by_id[rule_id].exception_type is not ExceptionType.COMPOSITE:
                read.fail(f"{path}.DeletedMembers", "is only for exceptions of a Composite rule")
            members = split_members(key)
            stray = [m for m in deleted if m not in members]
            if stray:
                read.fail(
                    f"{path}.DeletedMembers", f"names {stray[0]!r}, not a member of Exception"
                )
        ttl = entry.get("TTL")
        if ttl is not None and not read.is_int(ttl):
            read.fail(
                f"{path}.TTL", f"must be epoch seconds, a whole number (got {read.show(ttl)})"
            )
        record_key = RecordKey(account_id, rule_id, key)
        if record_key in seen:
            read.fail(
                path, f"repeats the key of {seen[record_key]} (AccountId_RuleId and Exception)"
            )
        seen[record_key] = path
        records.append(
            ExceptionRecord(
                record_key=record_key,
                region=region,
                status=read.opt_str(entry, "ExceptionStatus", path) or "ACTIVE",
                resource_type=read.opt_str(entry, "ResourceType", path),
                deleted_members=frozenset(deleted),
                last_modified_by=read.opt_str(entry, "LastModifiedBy", path),
                update_timestamp=read.opt_str(entry, "UpdateTimeStamp", path),
                ttl=ttl,
            )
        )
    return tuple(records)


def _partition(entry: Mapping[str, Any], path: str) -> tuple[str, int]:
    """The account and rule id, from `AccountId` and `RuleId` or from `AccountId_RuleId`."""
    if "AccountId_RuleId" in entry:
        if "AccountId" in entry or "RuleId" in entry:
            read.fail(path, "must give either AccountId_RuleId or AccountId and RuleId, not both")
        raw = entry["AccountId_RuleId"]
        account, _, rule = str(raw).partition("_") if isinstance(raw, str) else ("", "", "")
        if not is_account_id(account) or not rule.isdigit():
            read.fail(
                f"{path}.AccountId_RuleId",
                f"must look like 111122223333_7 (got {read.show(raw)})",
            )
        return account, int(rule)
    if "AccountId" not in entry:
        read.fail(f"{path}.AccountId", "is missing")
    return read.account_value(entry["AccountId"], f"{path}.AccountId"), read.rule_id(entry, path)


def _inventory(
    value: object, path: str
) -> tuple[tuple[InventoryResource, ...], tuple[tuple[str, str], ...]]:
    if value is None:
        return (), ()
    entry = read.mapping(value, path)
    read.known(entry, path, ("resources", "errors"))
    resources: list[InventoryResource] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for i, item in enumerate(read.list_of(entry, "resources", path)):
        item_path = f"{path}.resources[{i}]"
        resource = read.mapping(item, item_path)
        read.known(resource, item_path, ("account", "region", "type", "id", "name", "deleted"))
        declared = InventoryResource(
            account_id=read.account_value(
                read.req(resource, "account", item_path), f"{item_path}.account"
            ),
            region=read.region(resource, item_path),
            resource_type=read.req_str(resource, "type", item_path),
            resource_id=read.req_str(resource, "id", item_path),
            name=read.opt_str(resource, "name", item_path),
            deleted=read.opt_bool(resource, "deleted", item_path, default=False),
        )
        identity = (
            declared.account_id,
            declared.region,
            declared.resource_type,
            declared.resource_id,
        )
        if identity in seen:
            read.fail(item_path, f"declares the same resource as {seen[identity]}")
        seen[identity] = item_path
        resources.append(declared)
    failing: dict[str, str] = {}
    for i, item in enumerate(read.list_of(entry, "errors", path)):
        item_path = f"{path}.errors[{i}]"
        error = read.mapping(item, item_path)
        read.known(error, item_path, ("account", "message"))
        account = read.account_value(read.req(error, "account", item_path), f"{item_path}.account")
        failing[account] = read.opt_str(error, "message", item_path) or (
            f"AccessDenied: cannot assume the Config role in account {account}"
        )
    return tuple(resources), tuple(failing.items())


def _short_delete(value: object, path: str, number: int) -> tuple[str, Deletion | None]:
    """A deletion event built from a short form, and what it does to the inventory.

    ``signal`` chooses the event: ``compliance-change`` (the default: the rule's own report,
    ``rule`` required) or ``configuration-item`` (AWS Config's record of the deletion: no
    rule; ``name``, ``arn`` and ``oversized`` shape the item). Values are not checked for
    form here: a malformed account or region makes an event the handler finds `invalid`,
    which a scenario may want to show.
    """
    entry = read.mapping(value, path)
    read.known(
        entry,
        path,
        (
            "signal",
            "account",
            "region",
            "rule",
            "type",
            "id",
            "name",
            "arn",
            "oversized",
            "event_id",
            "envelope_account",
            "envelope_region",
            "confirmed",
        ),
    )
    signal = read.opt_str(entry, "signal", path) or _SIGNALS[0]
    if signal not in _SIGNALS:
        read.fail(
            f"{path}.signal", f"must be one of {', '.join(_SIGNALS)} (got {read.show(signal)})"
        )
    account = read.loose_account(read.req(entry, "account", path), f"{path}.account")
    region = read.req_str(entry, "region", path)
    resource_type = read.req_str(entry, "type", path)
    resource_id = read.req_str(entry, "id", path)
    envelope = entry.get("envelope_account")
    event_id = read.opt_str(entry, "event_id", path) or f"event-{number}"
    envelope_account = (
        None if envelope is None else read.loose_account(envelope, f"{path}.envelope_account")
    )
    envelope_region = read.opt_str(entry, "envelope_region", path)
    if signal == "configuration-item":
        if "rule" in entry:
            read.fail(
                f"{path}.rule", "must not be given: a configuration-item deletion names no rule"
            )
        event = configuration_item_event(
            account_id=account,
            region=region,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_name=read.opt_str(entry, "name", path),
            arn=read.opt_str(entry, "arn", path),
            oversized=read.opt_bool(entry, "oversized", path, default=False),
            event_id=event_id,
            envelope_account=envelope_account,
            envelope_region=envelope_region,
        )
    else:
        for only_item in ("arn", "oversized"):
            if only_item in entry:
                read.fail(f"{path}.{only_item}", "is for signal: configuration-item only")
        event = compliance_change_event(
            account_id=account,
            region=region,
            rule_name=read.req_str(entry, "rule", path),
            resource_type=resource_type,
            resource_id=resource_id,
            event_id=event_id,
            envelope_account=envelope_account,
            envelope_region=envelope_region,
        )
    deletion = None
    if read.opt_bool(entry, "confirmed", path, default=True):
        deletion = Deletion(
            account, region, resource_type, resource_id, read.opt_str(entry, "name", path)
        )
    return json.dumps(event), deletion


def _raw_event(value: object, path: str) -> str:
    if isinstance(value, str):
        return value  # an SQS body as received: may well be invalid, on purpose
    if isinstance(value, Mapping):
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as error:
            read.fail(path, f"cannot be written as JSON ({read.one_line(error)})")
    raise read.Problem(
        path,
        f"must be an EventBridge event (a mapping) or an SQS body (got {read.type_name(value)})",
    )


def _expect(entry: Mapping[str, Any], path: str) -> Outcome | None:
    value = entry.get("expect")
    if value is None:
        return None
    try:
        return Outcome(value)
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        read.fail(f"{path}.expect", f"must be one of {known} (got {read.show(value)})")


def _sweep(value: object, path: str) -> SweepStep | None:
    """``sweep: true``, or a mapping with optional ``expect`` (counts by outcome) and ``note``."""
    if value is None or value is False:
        return None
    if value is True:
        return SweepStep()
    entry = read.mapping(value, path)
    read.known(entry, path, ("expect", "note"))
    expect: tuple[tuple[SweepOutcome, int], ...] | None = None
    if entry.get("expect") is not None:
        counts = read.mapping(entry["expect"], f"{path}.expect")
        known = ", ".join(o.value for o in SweepOutcome)
        parsed: dict[SweepOutcome, int] = {}
        for name, count in counts.items():
            try:
                outcome = SweepOutcome(name)
            except ValueError:
                read.fail(f"{path}.expect.{name}", f"is not a sweep outcome (known: {known})")
            if not read.is_int(count) or count < 0:
                read.fail(
                    f"{path}.expect.{name}", f"must be a count, 0 or more (got {read.show(count)})"
                )
            parsed[outcome] = count
        expect = tuple((o, parsed[o]) for o in SweepOutcome if o in parsed)
    return SweepStep(expect, read.opt_str(entry, "note", path))


# --- small typed readers; each fails with the path of the bad value ----------------------
