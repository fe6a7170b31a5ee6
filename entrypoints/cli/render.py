"""Table cells that `elm simulate` and `elm local` share, so the two show a run alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from domain.outcomes import Outcome
from domain.records import ExceptionRecord
from entrypoints.composition.settings import Settings
from entrypoints.local.scenario import Scenario

__all__ = [
    "OUTCOME_STYLE",
    "add_event_columns",
    "allowed_accounts",
    "deleted_cell",
    "exception_cell",
    "outcome_cell",
    "published_table",
    "reason_cell",
    "record_key_cell",
    "rule_resource_cell",
    "scenario_title",
]

OUTCOME_STYLE: dict[str, str] = {
    Outcome.CLOSED.value: "bold green",
    Outcome.MEMBER_DELETED.value: "green",
    Outcome.DUPLICATE.value: "cyan",
    Outcome.NO_MATCH.value: "blue",
    Outcome.NOT_CONFIRMED.value: "yellow",
    Outcome.IGNORED.value: "dim",
    Outcome.REJECTED.value: "magenta",
    Outcome.INVALID.value: "bold red",
    Outcome.FAILED.value: "red",
}
"""The rich style of each outcome, by its value."""


def scenario_title(prefix: str, scenario: Scenario) -> Text:
    """``prefix`` and the scenario's file, then its description if it has one, in bold."""
    title = f"{prefix}{scenario.source}"
    if scenario.description:
        title += f": {scenario.description.strip()}"
    return Text(title, style="bold")


def allowed_accounts(settings: Settings) -> str:
    """The accounts the handler accepts events from, or `any`."""
    return ", ".join(sorted(settings.allowed_accounts)) if settings.allowed_accounts else "any"


def add_event_columns(table: Table) -> None:
    """The columns an events table ends with: rule and resource, outcome, reason."""
    table.add_column("rule\nresource", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1)


def rule_resource_cell(
    rule_name: str | None, resource_type: str | None, resource_id: str | None
) -> str:
    """The rule, and below it the resource (its type without `AWS::`, then its id)."""
    resource = resource_id or "-"
    if resource_type:
        resource = f"{resource_type.removeprefix('AWS::')} {resource}"
    return f"{rule_name or '-'}\n{resource}"


def outcome_cell(outcome: str, style: str, expect: Outcome | None, *, met: bool) -> Text:
    """The outcome, with a mark saying whether it is the one the scenario expects."""
    text = Text(outcome, style=style)
    if expect is not None and met:
        text.append(" ✓", style="green")
    elif expect is not None:
        text.append(f"\n✗ expected {expect.value}", style="bold red")
    return text


def reason_cell(reason: str, members: Sequence[str], note: str | None) -> Text:
    """The reason, the composite members recorded, and the scenario's note (dim)."""
    text = Text(reason)
    if members:
        text.append(f" (members recorded: {', '.join(members)})")
    if note:
        text.append(f" · {note}", style="dim")
    return text


def record_key_cell(record: ExceptionRecord) -> str:
    """`AccountId_RuleId`, and below it the region."""
    return f"{record.record_key.partition_key}\n{record.region}"


def exception_cell(record: ExceptionRecord) -> str:
    """`Exception`, and below it the resource type without `AWS::`."""
    return f"{record.key}\n{(record.resource_type or '-').removeprefix('AWS::')}"


def deleted_cell(record: ExceptionRecord) -> str:
    """Members confirmed deleted out of all, for composites and partly deleted records."""
    members = record.members()
    if record.deleted_members or len(members) > 1:
        return f"{len(record.deleted_members)}/{len(members)}"
    return "-"


def published_table(title: str, published: Sequence[Mapping[str, Any]]) -> Table:
    """ELM's own events as a subscriber receives them (``detail-type`` and ``detail``)."""
    table = Table(title=title, title_justify="left", show_lines=True)
    table.add_column("detail-type", no_wrap=True)
    table.add_column("exception\naccount, region", no_wrap=True)
    table.add_column("made by", no_wrap=True)
    for event in published:
        detail = event["detail"]
        if "exceptionKey" in detail:
            what = (
                f"{detail['exceptionKey']['Exception']}\n{detail['accountId']}, {detail['region']}"
            )
            if detail["members"]:
                what += f"\nmembers: {', '.join(detail['members'])}"
        else:
            counted = ", ".join(f"{o} {n}" for o, n in detail["outcomes"].items())
            what = f"{detail['recordsScanned']} scanned: {counted or 'nothing changed'}"
        made_by = detail["eventId"] if detail.get("eventId") else f"sweep {detail['sweepRun']}"
        table.add_row(event["detail-type"], what, made_by)
    return table
