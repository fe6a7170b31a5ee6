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
from typing import Any, NoReturn, TypeGuard, TypeVar

import yaml
from attrs import frozen

from application.reconcile import SweepOutcome
from domain.events import is_account_id, is_region_name
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey, split_members
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.sample_events import compliance_change_event
from entrypoints.settings import DEFAULT_RETENTION_DAYS, Settings

__all__ = [
    "DEFAULT_START",
    "Deletion",
    "InventoryResource",
    "Scenario",
    "ScenarioError",
    "ScenarioEvent",
    "SweepStep",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_START = datetime(2026, 3, 4, 10, 15, 30, tzinfo=UTC)
"""When the first event of a scenario arrives, unless `settings.start_time` says otherwise."""

_E = TypeVar("_E", ExceptionFormat, ExceptionType)
_MAX_RETENTION_DAYS = 3650
_TOP_LEVEL = ("description", "settings", "rules", "exceptions", "inventory", "events", "sweep")
_EVENT_FORMS = ("delete", "event", "file")


class ScenarioError(ValueError):
    """The scenario file cannot be used; the message is one line naming the file and the path."""


class _Problem(Exception):
    """A bad value at ``path``; turned into a `ScenarioError` naming the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path} {message}" if path else message)


@frozen
class InventoryResource:
    """A resource AWS Config knows in a target account: existing, or deleted."""

    account_id: str
    region: str
    resource_type: str
    resource_id: str
    name: str | None = None
    deleted: bool = False


@frozen
class Deletion:
    """What a short-form ``delete`` event does to the simulated inventory before it is sent."""

    account_id: str
    region: str
    resource_type: str
    resource_id: str
    name: str | None = None


@frozen
class ScenarioEvent:
    """One event of the scenario: the SQS message body ELM receives, and what is expected."""

    label: str
    body: str
    deletion: Deletion | None = None
    expect: Outcome | None = None
    note: str | None = None


@frozen
class SweepStep:
    """The reconciliation sweep run after the events, and the counts it must report."""

    expect: tuple[tuple[SweepOutcome, int], ...] | None = None
    note: str | None = None


@frozen
class Scenario:
    """A whole scenario, validated: everything `elm simulate` needs to run it."""

    source: str
    settings: Settings
    start: datetime
    rules: tuple[Rule, ...]
    exceptions: tuple[ExceptionRecord, ...]
    resources: tuple[InventoryResource, ...]
    failing_accounts: tuple[tuple[str, str], ...]
    events: tuple[ScenarioEvent, ...]
    description: str | None = None
    sweep: SweepStep | None = None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raise `ScenarioError` with a one-line reason."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{source}: cannot be read ({_one_line(error)})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: is not valid YAML ({_yaml_reason(error)})") from None
    return parse_scenario(document, source=source, base_dir=path.parent)


def parse_scenario(document: object, *, source: str, base_dir: Path) -> Scenario:
    """Validate a decoded scenario; ``file:`` events are read relative to ``base_dir``."""
    try:
        return _Parser(base_dir).scenario(document, source)
    except _Problem as problem:
        raise ScenarioError(f"{source}: {problem}") from None


class _Parser:
    def __init__(self, base_dir: Path) -> None:
        self._base_dir = base_dir

    def scenario(self, document: object, source: str) -> Scenario:
        if document is None:
            _fail("", "the file is empty")
        top = _mapping(document, "", what="the file")
        _known(top, "", _TOP_LEVEL)
        description = _opt_str(top, "description", "")
        settings, start = _settings(top.get("settings"), "settings")
        rules = _rules(_list(top, "rules", ""))
        exceptions = _exceptions(_list(top, "exceptions", ""), rules)
        resources, failing = _inventory(top.get("inventory"), "inventory")
        if top.get("events") is None:
            _fail("events", "is missing: a scenario needs at least one event")
        events = tuple(
            self._event(item, f"events[{i}]", i + 1)
            for i, item in enumerate(_list(top, "events", ""))
        )
        if not events:
            _fail("events", "is empty: a scenario needs at least one event")
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
        entry = _mapping(item, path)
        _known(entry, path, (*_EVENT_FORMS, "expect", "note"))
        forms = [f for f in _EVENT_FORMS if f in entry]
        if len(forms) != 1:
            _fail(path, f"must have exactly one of {', '.join(_EVENT_FORMS)} (got {len(forms)})")
        form = forms[0]
        expect = _expect(entry, path)
        note = _opt_str(entry, "note", path)
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
            _fail(path, f"must be a path to a JSON event file (got {_type(value)})")
        file = self._base_dir / value
        try:
            # Sent as is: a malformed file is the `invalid` outcome, not a scenario error.
            return file.read_text(encoding="utf-8")
        except FileNotFoundError:
            _fail(path, f"names a file that does not exist ({file})")
        except (OSError, UnicodeDecodeError) as error:
            _fail(path, f"cannot be read ({_one_line(error)})")


def _settings(value: object, path: str) -> tuple[Settings, datetime]:
    if value is None:
        return Settings(), DEFAULT_START
    entry = _mapping(value, path)
    _known(
        entry, path, ("rule_prefix", "allowed_accounts", "retention_days", "dry_run", "start_time")
    )
    retention = entry.get("retention_days", DEFAULT_RETENTION_DAYS)
    if not _is_int(retention) or not 1 <= retention <= _MAX_RETENTION_DAYS:
        _fail(
            f"{path}.retention_days",
            f"must be a whole number of days from 1 to {_MAX_RETENTION_DAYS} "
            f"(got {_show(retention)})",
        )
    allowed: frozenset[str] | None = None
    if entry.get("allowed_accounts") is not None:
        raw = entry["allowed_accounts"]
        if not isinstance(raw, list):
            _fail(f"{path}.allowed_accounts", f"must be a list of account ids (got {_type(raw)})")
        allowed = frozenset(
            _account_value(a, f"{path}.allowed_accounts[{i}]") for i, a in enumerate(raw)
        )
    settings = Settings(
        rule_prefix=_rule_prefix(entry.get("rule_prefix"), f"{path}.rule_prefix"),
        retention_days=retention,
        allowed_accounts=allowed,
        dry_run=_opt_bool(entry, "dry_run", path, default=False),
    )
    return settings, _start_time(entry.get("start_time"), f"{path}.start_time")


def _rule_prefix(value: object, path: str) -> str:
    """The prefix, empty in PROD (so an empty string is fine here, unlike elsewhere)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        _fail(path, f"must be a string (got {_type(value)})")
    return value.strip()


def _start_time(value: object, path: str) -> datetime:
    if value is None:
        return DEFAULT_START
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            _fail(path, f"must be an ISO-8601 time such as 2026-03-04T10:15:30Z (got {value!r})")
    if not isinstance(value, datetime):
        _fail(path, f"must be an ISO-8601 time (got {_type(value)})")
    if value.tzinfo is None:
        _fail(path, "must give its timezone, e.g. 2026-03-04T10:15:30Z")
    return value.astimezone(UTC)


def _rules(items: list[Any]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen_ids: dict[int, str] = {}
    seen_names: dict[str, str] = {}
    for i, item in enumerate(items):
        path = f"rules[{i}]"
        entry = _mapping(item, path)
        _known(
            entry, path, ("RuleId", "RuleName", "ExceptionFormat", "ExceptionType", "ResourceTypes")
        )
        rule_id = _rule_id(entry, path)
        name = _req_str(entry, "RuleName", path)
        rule = Rule(
            rule_id=rule_id,
            name=name,
            exception_format=_choice(entry, "ExceptionFormat", path, ExceptionFormat),
            exception_type=_choice(entry, "ExceptionType", path, ExceptionType),
            resource_types=frozenset(_opt_str_list(entry, "ResourceTypes", path)),
        )
        if rule_id in seen_ids:
            _fail(f"{path}.RuleId", f"{rule_id} is already used by {seen_ids[rule_id]}")
        if name in seen_names:
            _fail(f"{path}.RuleName", f"{name!r} is already used by {seen_names[name]}")
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
        entry = _mapping(item, path)
        _known(
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
            _fail(f"{path}.RuleId", f"{rule_id} is not one of the scenario's rules")
        key = _req_str(entry, "Exception", path)
        region = _req_str(entry, "Region", path)
        if not is_region_name(region):
            _fail(f"{path}.Region", f"is not a region name (got {region!r})")
        deleted = _opt_str_list(entry, "DeletedMembers", path)
        if deleted:
            if by_id[rule_id].exception_type is not ExceptionType.COMPOSITE:
                _fail(f"{path}.DeletedMembers", "is only for exceptions of a Composite rule")
            members = split_members(key)
            stray = [m for m in deleted if m not in members]
            if stray:
                _fail(f"{path}.DeletedMembers", f"names {stray[0]!r}, not a member of Exception")
        ttl = entry.get("TTL")
        if ttl is not None and not _is_int(ttl):
            _fail(f"{path}.TTL", f"must be epoch seconds, a whole number (got {_show(ttl)})")
        record_key = RecordKey(account_id, rule_id, key)
        if record_key in seen:
            _fail(path, f"repeats the key of {seen[record_key]} (AccountId_RuleId and Exception)")
        seen[record_key] = path
        records.append(
            ExceptionRecord(
                record_key=record_key,
                region=region,
                status=_opt_str(entry, "ExceptionStatus", path) or "ACTIVE",
                resource_type=_opt_str(entry, "ResourceType", path),
                deleted_members=frozenset(deleted),
                last_modified_by=_opt_str(entry, "LastModifiedBy", path),
                update_timestamp=_opt_str(entry, "UpdateTimeStamp", path),
                ttl=ttl,
            )
        )
    return tuple(records)


def _partition(entry: Mapping[str, Any], path: str) -> tuple[str, int]:
    """The account and rule id, from `AccountId` and `RuleId` or from `AccountId_RuleId`."""
    if "AccountId_RuleId" in entry:
        if "AccountId" in entry or "RuleId" in entry:
            _fail(path, "must give either AccountId_RuleId or AccountId and RuleId, not both")
        raw = entry["AccountId_RuleId"]
        account, _, rule = str(raw).partition("_") if isinstance(raw, str) else ("", "", "")
        if not is_account_id(account) or not rule.isdigit():
            _fail(
                f"{path}.AccountId_RuleId",
                f"must look like 111122223333_7 (got {_show(raw)})",
            )
        return account, int(rule)
    if "AccountId" not in entry:
        _fail(f"{path}.AccountId", "is missing")
    return _account_value(entry["AccountId"], f"{path}.AccountId"), _rule_id(entry, path)


def _inventory(
    value: object, path: str
) -> tuple[tuple[InventoryResource, ...], tuple[tuple[str, str], ...]]:
    if value is None:
        return (), ()
    entry = _mapping(value, path)
    _known(entry, path, ("resources", "errors"))
    resources: list[InventoryResource] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for i, item in enumerate(_list(entry, "resources", path)):
        item_path = f"{path}.resources[{i}]"
        resource = _mapping(item, item_path)
        _known(resource, item_path, ("account", "region", "type", "id", "name", "deleted"))
        declared = InventoryResource(
            account_id=_account_value(_req(resource, "account", item_path), f"{item_path}.account"),
            region=_region(resource, item_path),
            resource_type=_req_str(resource, "type", item_path),
            resource_id=_req_str(resource, "id", item_path),
            name=_opt_str(resource, "name", item_path),
            deleted=_opt_bool(resource, "deleted", item_path, default=False),
        )
        identity = (
            declared.account_id,
            declared.region,
            declared.resource_type,
            declared.resource_id,
        )
        if identity in seen:
            _fail(item_path, f"declares the same resource as {seen[identity]}")
        seen[identity] = item_path
        resources.append(declared)
    failing: dict[str, str] = {}
    for i, item in enumerate(_list(entry, "errors", path)):
        item_path = f"{path}.errors[{i}]"
        error = _mapping(item, item_path)
        _known(error, item_path, ("account", "message"))
        account = _account_value(_req(error, "account", item_path), f"{item_path}.account")
        failing[account] = _opt_str(error, "message", item_path) or (
            f"AccessDenied: cannot assume the Config role in account {account}"
        )
    return tuple(resources), tuple(failing.items())


def _short_delete(value: object, path: str, number: int) -> tuple[str, Deletion | None]:
    """A deletion event built from a short form, and what it does to the inventory.

    Values are not checked for form here: a malformed account or region makes an event the
    handler finds `invalid`, which a scenario may want to show.
    """
    entry = _mapping(value, path)
    _known(
        entry,
        path,
        (
            "account",
            "region",
            "rule",
            "type",
            "id",
            "name",
            "event_id",
            "envelope_account",
            "envelope_region",
            "confirmed",
        ),
    )
    account = _loose_account(_req(entry, "account", path), f"{path}.account")
    region = _req_str(entry, "region", path)
    resource_type = _req_str(entry, "type", path)
    resource_id = _req_str(entry, "id", path)
    envelope = entry.get("envelope_account")
    event = compliance_change_event(
        account_id=account,
        region=region,
        rule_name=_req_str(entry, "rule", path),
        resource_type=resource_type,
        resource_id=resource_id,
        event_id=_opt_str(entry, "event_id", path) or f"event-{number}",
        envelope_account=(
            None if envelope is None else _loose_account(envelope, f"{path}.envelope_account")
        ),
        envelope_region=_opt_str(entry, "envelope_region", path),
    )
    deletion = None
    if _opt_bool(entry, "confirmed", path, default=True):
        deletion = Deletion(
            account, region, resource_type, resource_id, _opt_str(entry, "name", path)
        )
    return json.dumps(event), deletion


def _raw_event(value: object, path: str) -> str:
    if isinstance(value, str):
        return value  # an SQS body as received: may well be invalid, on purpose
    if isinstance(value, Mapping):
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as error:
            _fail(path, f"cannot be written as JSON ({_one_line(error)})")
    raise _Problem(
        path, f"must be an EventBridge event (a mapping) or an SQS body (got {_type(value)})"
    )


def _expect(entry: Mapping[str, Any], path: str) -> Outcome | None:
    value = entry.get("expect")
    if value is None:
        return None
    try:
        return Outcome(value)
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        _fail(f"{path}.expect", f"must be one of {known} (got {_show(value)})")


def _sweep(value: object, path: str) -> SweepStep | None:
    """``sweep: true``, or a mapping with optional ``expect`` (counts by outcome) and ``note``."""
    if value is None or value is False:
        return None
    if value is True:
        return SweepStep()
    entry = _mapping(value, path)
    _known(entry, path, ("expect", "note"))
    expect: tuple[tuple[SweepOutcome, int], ...] | None = None
    if entry.get("expect") is not None:
        counts = _mapping(entry["expect"], f"{path}.expect")
        known = ", ".join(o.value for o in SweepOutcome)
        parsed: dict[SweepOutcome, int] = {}
        for name, count in counts.items():
            try:
                outcome = SweepOutcome(name)
            except ValueError:
                _fail(f"{path}.expect.{name}", f"is not a sweep outcome (known: {known})")
            if not _is_int(count) or count < 0:
                _fail(f"{path}.expect.{name}", f"must be a count, 0 or more (got {_show(count)})")
            parsed[outcome] = count
        expect = tuple((o, parsed[o]) for o in SweepOutcome if o in parsed)
    return SweepStep(expect, _opt_str(entry, "note", path))


# --- small typed readers; each fails with the path of the bad value ----------------------


def _fail(path: str, message: str) -> NoReturn:
    raise _Problem(path, message)


def _mapping(value: object, path: str, *, what: str | None = None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        subject = "" if path else f"{what or 'the value'} "
        _fail(path, f"{subject}must be a mapping (got {_type(value)})")
    return value


def _known(entry: Mapping[str, Any], path: str, fields: Sequence[str]) -> None:
    for key in entry:
        if key not in fields:
            where = f"{path}.{key}" if path else str(key)
            _fail(where, f"is not a known field (known: {', '.join(fields)})")


def _list(entry: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        _fail(_at(path, key), f"must be a list (got {_type(value)})")
    return value


def _req(entry: Mapping[str, Any], key: str, path: str) -> object:
    if entry.get(key) is None:
        _fail(_at(path, key), "is missing")
    return entry[key]


def _req_str(entry: Mapping[str, Any], key: str, path: str) -> str:
    value = _req(entry, key, path)
    if not isinstance(value, str):
        _fail(_at(path, key), f"must be a string (got {_type(value)})")
    if not value.strip():
        _fail(_at(path, key), "is empty")
    return value


def _opt_str(entry: Mapping[str, Any], key: str, path: str) -> str | None:
    if entry.get(key) is None:
        return None
    return _req_str(entry, key, path)


def _opt_bool(entry: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
    value = entry.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        _fail(_at(path, key), f"must be true or false (got {_show(value)})")
    return value


def _opt_str_list(entry: Mapping[str, Any], key: str, path: str) -> list[str]:
    values = _list(entry, key, path)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            _fail(f"{_at(path, key)}[{i}]", f"must be a non-empty string (got {_show(value)})")
    return values


def _rule_id(entry: Mapping[str, Any], path: str) -> int:
    value = _req(entry, "RuleId", path)
    if not _is_int(value) or value < 0:
        _fail(_at(path, "RuleId"), f"must be a whole number, 0 or more (got {_show(value)})")
    return value


def _choice(entry: Mapping[str, Any], key: str, path: str, kind: type[_E]) -> _E:
    value = _req(entry, key, path)
    for member in kind:
        if member.value == value:
            return member
    known = " or ".join(repr(m.value) for m in kind)
    _fail(_at(path, key), f"must be {known} (got {_show(value)})")


def _account_value(value: object, path: str) -> str:
    text = _text(value, path)
    if not is_account_id(text):
        _fail(
            path,
            f"must be a 12-digit account id, quoted so YAML keeps its leading zeros "
            f"(got {_show(value)})",
        )
    return text


def _region(entry: Mapping[str, Any], path: str) -> str:
    region = _req_str(entry, "region", path)
    if not is_region_name(region):
        _fail(_at(path, "region"), f"is not a region name (got {region!r})")
    return region


def _loose_account(value: object, path: str) -> str:
    """Any string (a malformed account makes an `invalid` event), but not a mangled number."""
    if _is_int(value) and not is_account_id(str(value)):
        _fail(
            path,
            f"must be quoted: YAML read it as the number {value} (account ids keep their zeros "
            "only as strings)",
        )
    return _text(value, path)


def _text(value: object, path: str) -> str:
    """A string, or an unquoted number YAML read as one (account ids often are)."""
    if _is_int(value):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        _fail(path, f"must be a non-empty string (got {_show(value)})")
    return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type(value: object) -> str:
    match value:
        case None:
            return "nothing"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case Mapping():
            return "a mapping"
        case _:
            return type(value).__name__


def _show(value: object) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        shown = repr(value)
        return shown if len(shown) <= 40 else shown[:40] + "…"
    return _type(value)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _yaml_reason(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or _one_line(error)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)
