"""Small typed readers of a decoded scenario document; each fails with the path of the bad value.

A failure is a `Problem` naming the path (``exceptions[2].Region``); the parser turns it into a
`ScenarioError` naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, TypeGuard, TypeVar

import yaml

from domain.events import is_account_id, is_region_name
from domain.rules import ExceptionFormat, ExceptionType

_E = TypeVar("_E", ExceptionFormat, ExceptionType)


class Problem(Exception):
    """A bad value at ``path``; turned into a `ScenarioError` naming the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path} {message}" if path else message)


def fail(path: str, message: str) -> NoReturn:
    raise Problem(path, message)


def mapping(value: object, path: str, *, what: str | None = None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        subject = "" if path else f"{what or 'the value'} "
        fail(path, f"{subject}must be a mapping (got {type_name(value)})")
    return value


def known(entry: Mapping[str, Any], path: str, fields: Sequence[str]) -> None:
    for key in entry:
        if key not in fields:
            where = f"{path}.{key}" if path else str(key)
            fail(where, f"is not a known field (known: {', '.join(fields)})")


def list_of(entry: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        fail(at(path, key), f"must be a list (got {type_name(value)})")
    return value


def req(entry: Mapping[str, Any], key: str, path: str) -> object:
    if entry.get(key) is None:
        fail(at(path, key), "is missing")
    return entry[key]


def req_str(entry: Mapping[str, Any], key: str, path: str) -> str:
    value = req(entry, key, path)
    if not isinstance(value, str):
        fail(at(path, key), f"must be a string (got {type_name(value)})")
    if not value.strip():
        fail(at(path, key), "is empty")
    return value


def opt_str(entry: Mapping[str, Any], key: str, path: str) -> str | None:
    if entry.get(key) is None:
        return None
    return req_str(entry, key, path)


def opt_bool(entry: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
    value = entry.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        fail(at(path, key), f"must be true or false (got {show(value)})")
    return value


def opt_str_list(entry: Mapping[str, Any], key: str, path: str) -> list[str]:
    values = list_of(entry, key, path)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            fail(f"{at(path, key)}[{i}]", f"must be a non-empty string (got {show(value)})")
    return values


def rule_id(entry: Mapping[str, Any], path: str) -> int:
    value = req(entry, "RuleId", path)
    if not is_int(value) or value < 0:
        fail(at(path, "RuleId"), f"must be a whole number, 0 or more (got {show(value)})")
    return value


def choice(entry: Mapping[str, Any], key: str, path: str, kind: type[_E]) -> _E:
    value = req(entry, key, path)
    for member in kind:
        if member.value == value:
            return member
    known = " or ".join(repr(m.value) for m in kind)
    fail(at(path, key), f"must be {known} (got {show(value)})")


def account_value(value: object, path: str) -> str:
    account = text(value, path)
    if not is_account_id(account):
        fail(
            path,
            f"must be a 12-digit account id, quoted so YAML keeps its leading zeros "
            f"(got {show(value)})",
        )
    return account


def region(entry: Mapping[str, Any], path: str) -> str:
    name = req_str(entry, "region", path)
    if not is_region_name(name):
        fail(at(path, "region"), f"is not a region name (got {name!r})")
    return name


def loose_account(value: object, path: str) -> str:
    """Any string (a malformed account makes an `invalid` event), but not a mangled number."""
    if is_int(value) and not is_account_id(str(value)):
        fail(
            path,
            f"must be quoted: YAML read it as the number {value} (account ids keep their zeros "
            "only as strings)",
        )
    return text(value, path)


def text(value: object, path: str) -> str:
    """A string, or an unquoted number YAML read as one (account ids often are)."""
    if is_int(value):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        fail(path, f"must be a non-empty string (got {show(value)})")
    return value


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def type_name(value: object) -> str:
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


def show(value: object) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        shown = repr(value)
        return shown if len(shown) <= 40 else shown[:40] + "…"
    return type_name(value)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def yaml_reason(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or one_line(error)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)
