"""`elm simulate SCENARIO.yaml`: the whole decision flow in memory, on a scenario file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from attrs import evolve
from rich.console import Console
from rich.table import Table
from rich.text import Text

from entrypoints.aws_lambda.reporting import event_fields
from entrypoints.aws_lambda.sweep_summary import summary_fields
from entrypoints.cli import app, render
from entrypoints.cli._console import WideConsole
from entrypoints.cli.reconcile import print_sweep_summary
from entrypoints.composition.tables import record_to_document
from entrypoints.local.scenario import ScenarioError, load_scenario
from entrypoints.local.simulation import EventRun, SimulationReport, simulate

__all__ = ["report_document", "simulate_command"]

EXIT_UNMET = 1
"""An event's outcome differs from its `expect`."""
EXIT_BAD_SCENARIO = 2
"""The scenario file cannot be read or is not valid."""


@app.command("simulate")
def simulate_command(
    scenario: Annotated[
        Path,
        typer.Argument(
            metavar="SCENARIO.yaml",
            help="Rules, exceptions, AWS Config inventory and events (see examples/).",
            show_default=False,
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of tables.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Decide but write nothing, whatever the scenario says "
            "(its `expect`s are then not checked).",
        ),
    ] = False,
) -> None:
    """Run a scenario through ELM's decision flow in memory, with no AWS account.

    Prints each event's outcome and the exception table afterwards. Exits 2 on a bad
    scenario file, 1 when an event's outcome differs from its `expect`, 0 otherwise.
    """
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as error:
        typer.echo(f"elm: {error}", err=True)
        raise typer.Exit(EXIT_BAD_SCENARIO) from None
    if dry_run and not loaded.settings.dry_run:
        # The scenario's expectations describe its own settings, not this override.
        loaded = evolve(
            loaded,
            settings=evolve(loaded.settings, dry_run=True),
            events=tuple(evolve(e, expect=None) for e in loaded.events),
            sweep=loaded.sweep and evolve(loaded.sweep, expect=None),
        )
    report = simulate(loaded)
    if as_json:
        typer.echo(json.dumps(report_document(report), indent=2))
    else:
        _print_tables(report, WideConsole(highlight=False))
    for run in report.unmet:
        assert run.event.expect is not None
        typer.echo(
            f"elm: {loaded.source}: {run.event.label} expected {run.event.expect.value}, "
            f"got {run.result.outcome.value} ({run.result.reason})",
            err=True,
        )
    if report.sweep_unmet:
        typer.echo(f"elm: {loaded.source}: {report.sweep_unmet}", err=True)
    if report.unmet or report.sweep_unmet:
        raise typer.Exit(EXIT_UNMET)


def report_document(report: SimulationReport) -> dict[str, Any]:
    """The report as JSON-ready data: events, the sweep, the table after, and the totals."""
    settings = report.scenario.settings
    document = {
        "scenario": report.scenario.source,
        "description": report.scenario.description,
        "dry_run": settings.dry_run,
        "events": [_run_document(run) for run in report.runs],
        "exceptions": [record_to_document(r) for r in report.after],
        "summary": {
            "outcomes": {o.value: n for o, n in report.counts.items()},
            "events": len(report.runs),
            "records_changed": sum(1 for r in report.after if report.changed(r)),
            "config_calls": report.config_calls,
            "unmet_expectations": len(report.unmet),
        },
        "batchItemFailures": [{"itemIdentifier": m} for m in report.failed_message_ids],
        "published": [
            {"source": "elm", "detail-type": e.kind.value, "detail": dict(e.detail)}
            for e in report.published
        ],
    }
    if report.sweep is not None:
        document["sweep"] = _sweep_document(report)
    return document


def _sweep_document(report: SimulationReport) -> dict[str, Any]:
    assert report.sweep is not None
    document = summary_fields(report.sweep)
    step = report.scenario.sweep
    if step is not None and step.expect is not None:
        document["expected"] = {o.value: n for o, n in step.expect}
    if step is not None and step.note is not None:
        document["note"] = step.note
    return document


def _run_document(run: EventRun) -> dict[str, Any]:
    result = run.result
    document: dict[str, Any] = {
        "event": run.event.label,
        "message_id": run.message_id,
        **event_fields(result),
        "outcome": result.outcome.value,
        "reason": result.reason,
        "records": [
            {
                "AccountId_RuleId": r.record_key.partition_key,
                "Exception": r.record_key.key,
                "outcome": r.outcome.value,
                "members": list(r.members),
            }
            for r in result.records
        ],
        "batch_item_failure": run.batch_failed,
        "dry_run": result.dry_run,
    }
    if run.event.expect is not None:
        document["expected"] = run.event.expect.value
    if run.event.note is not None:
        document["note"] = run.event.note
    return document


def _print_tables(report: SimulationReport, console: Console) -> None:
    scenario = report.scenario
    settings = scenario.settings
    console.print(render.scenario_title("Scenario ", scenario))
    allowed = render.allowed_accounts(settings)
    console.print(
        f"{len(scenario.rules)} rules, {len(scenario.exceptions)} exceptions, "
        f"{len(scenario.resources)} resources in AWS Config, {len(scenario.events)} events. "
        f"Rule prefix {settings.rule_prefix or '(none)'!s}, allowed accounts {allowed}, "
        f"retention {settings.retention_days} days"
        + (", DRY RUN: nothing is written" if settings.dry_run else "")
        + "."
    )
    console.print(_events_table(report))
    if report.sweep is not None:
        _print_sweep(report, console)
    console.print(_exceptions_table(report))
    if report.published:
        console.print(
            render.published_table(
                "Published by ELM (source elm, on its bus)",
                [{"detail-type": e.kind.value, "detail": e.detail} for e in report.published],
            )
        )
    counts = ", ".join(
        f"[{render.OUTCOME_STYLE[o.value]}]{o.value}[/] {n}" for o, n in report.counts.items()
    )
    console.print(f"Outcomes: {counts}. AWS Config calls: {report.config_calls}.")
    failed = report.failed_message_ids
    if failed:
        console.print(
            f"batchItemFailures: {', '.join(failed)} (SQS delivers them again, then to the DLQ)."
        )


def _print_sweep(report: SimulationReport, console: Console) -> None:
    assert report.sweep is not None
    console.print(Text("Reconciliation sweep, a minute after the last event", style="bold"))
    step = report.scenario.sweep
    if step is not None and step.note:
        console.print(Text(step.note, style="dim"))
    print_sweep_summary(report.sweep, console)
    if step is not None and step.expect is not None:
        unmet = report.sweep_unmet
        console.print(
            Text(f"✗ {unmet}", style="bold red") if unmet else Text("✓ as expected", style="green")
        )


def _events_table(report: SimulationReport) -> Table:
    # Two-line cells keep the table readable in 80 columns; --json has every field apart.
    table = Table(title="Events, in order", title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("event\naccount, region", no_wrap=True)
    render.add_event_columns(table)
    for run in report.runs:
        result = run.result
        where = f"{result.account_id or '-'} {result.region or ''}".rstrip()
        table.add_row(
            str(run.number),
            f"{_short_id(result.event_id)}\n{where}",
            render.rule_resource_cell(result.rule_name, result.resource_type, result.resource_id),
            _outcome(run),
            _reason(run),
        )
    return table


def _outcome(run: EventRun) -> Text:
    """The outcome, with a mark saying whether it is the one the scenario expects."""
    outcome = run.result.outcome.value
    return render.outcome_cell(
        outcome, render.OUTCOME_STYLE[outcome], run.event.expect, met=run.meets_expectation
    )


def _reason(run: EventRun) -> Text:
    members = [m for r in run.result.records for m in r.members]
    return render.reason_cell(run.result.reason, members, run.event.note)


def _short_id(event_id: str | None) -> str:
    """Event ids are often UUIDs; the first eight characters tell them apart in a table."""
    if event_id is None:
        return "-"
    return event_id if len(event_id) <= 12 else event_id[:8] + "…"


def _exceptions_table(report: SimulationReport) -> Table:
    table = Table(
        title="Exceptions after the events" + (" and the sweep" if report.sweep else ""),
        title_justify="left",
        caption="bold: changed by this run. deleted: composite members confirmed deleted.",
        caption_justify="left",
        show_lines=True,
    )
    table.add_column("AccountId_RuleId\nRegion", no_wrap=True)
    table.add_column("Exception\nResourceType", no_wrap=True)
    table.add_column("ExceptionStatus\nTTL", overflow="fold")
    table.add_column("deleted", justify="right")
    table.add_column("History", justify="right")
    for record in report.after:
        status = Text(record.status, style="green" if record.is_closed else "")
        if record.ttl is not None:
            status.append(f"\n{_ttl(record.ttl)}")
        table.add_row(
            render.record_key_cell(record),
            render.exception_cell(record),
            status,
            render.deleted_cell(record),
            str(len(record.history)),
            style="bold" if report.changed(record) else None,
        )
    return table


def _ttl(ttl: int | None) -> str:
    if ttl is None:
        return "-"
    return f"{datetime.fromtimestamp(ttl, UTC):%Y-%m-%d}"
