"""`elm reconcile`: the reconciliation sweep (docs/sweep.md) against the configured tables."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from injector import Injector
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from application.reconcile import (
    GroupKey,
    RecordNote,
    SweepOutcome,
    SweepProgress,
    SweepReport,
    SweepRequest,
)
from domain.events import is_account_id, is_region_name
from entrypoints.aws_lambda.sweep_summary import summary_fields
from entrypoints.cli import app
from entrypoints.cli._console import WideConsole
from entrypoints.cli.html_report import check_report_path, sweep_page, write_report
from entrypoints.cli.sweep_follow import enqueue_run
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings, SettingsError
from entrypoints.composition.sweep_run_wiring import RunWiring, in_process

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "print_sweep_summary", "reconcile_command"]

EXIT_FAILED = 1
"""A group's Config call or write, or the table scan, failed: records are left to settle."""
EXIT_BAD_INPUT = 2
"""An option or a setting has a value ELM cannot use."""

_STYLE = {
    SweepOutcome.CLOSED: "bold green",
    SweepOutcome.MEMBER_DELETED: "green",
    SweepOutcome.NOT_CONFIRMED: "yellow",
    SweepOutcome.DUPLICATE: "cyan",
    SweepOutcome.UNKNOWN_TYPE: "magenta",
    SweepOutcome.UNKNOWN_RULE: "magenta",
    SweepOutcome.BAD_KEY: "magenta",
    SweepOutcome.REJECTED: "magenta",
    SweepOutcome.FAILED: "bold red",
    SweepOutcome.NOT_REACHED: "dim",
    SweepOutcome.OUT_OF_SCOPE: "dim",
}


@app.command("reconcile")
def reconcile_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Ask AWS Config and report, but write nothing.")
    ] = False,
    accounts: Annotated[
        list[str] | None,
        typer.Option("--account", help="Only this account (repeatable).", show_default=False),
    ] = None,
    regions: Annotated[
        list[str] | None,
        typer.Option("--region", help="Only this region (repeatable).", show_default=False),
    ] = None,
    budget_seconds: Annotated[
        float | None,
        typer.Option(
            "--budget-seconds",
            help="Stop cleanly after this long (default: ELM_SWEEP_BUDGET_SECONDS, 600).",
            show_default=False,
        ),
    ] = None,
    resume_from: Annotated[
        str | None,
        typer.Option(
            "--resume-from",
            metavar="ACCOUNT/REGION/TYPE",
            help="Start at the group a budget-stopped run names, then wrap around.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")
    ] = False,
    html_report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE.html",
            help="Also write the run as a self-contained HTML page (opens offline).",
        ),
    ] = None,
    enqueue: Annotated[
        bool,
        typer.Option(
            "--enqueue",
            help="Start the run on the deployed sweep queue (ELM_SWEEP_QUEUE_URL) instead of "
            "in this process, and follow it.",
        ),
    ] = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow/--no-follow",
            help="With --enqueue: wait for the deployed workers to finish the run, showing "
            "its items done (--no-follow: print the run id and return).",
        ),
    ] = True,
    follow_minutes: Annotated[
        float,
        typer.Option(
            "--follow-minutes",
            help="With --enqueue: stop following after this long (the run goes on).",
        ),
    ] = 60.0,
) -> None:
    """Close the open exceptions whose resources AWS Config reports deleted (lost events).

    Runs the distributed sweep's plan in this process: reads the table by Scan segments,
    groups every open exception by account, region and resource type, asks AWS Config
    about each chunk (at most 20 IDs a call, paced per account), and closes them as the event
    path does, with History entries `reconciled`. Exits 1 when a group or the table scan
    failed (throttled, denied), 2 on bad input, 0 otherwise (also when the budget ran out: the
    summary says where to resume). With --enqueue the deployed planner's work goes on the
    sweep queue and the deployed workers do it; the command follows the run's ledger.
    """
    if enqueue:
        clash = [
            name
            for name, given in (
                ("--budget-seconds", budget_seconds is not None),
                ("--resume-from", resume_from is not None),
                ("--report", html_report is not None),
            )
            if given
        ]
        if clash:
            typer.echo(
                f"elm: {', '.join(clash)} only apply to a run in this process, not --enqueue "
                "(a deployed run works every group, each worker within its own budget)",
                err=True,
            )
            raise typer.Exit(EXIT_BAD_INPUT)
        try:
            request = _request(dry_run, accounts, regions, None, None)
        except ValueError as error:
            typer.echo(f"elm: {error}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        enqueue_run(
            _container(ctx), request, as_json=as_json, follow=follow, minutes=follow_minutes
        )
        return
    if html_report is not None:
        check_report_path(html_report)
    try:
        request = _request(dry_run, accounts, regions, budget_seconds, resume_from)
        container = _container(ctx)
        sweep = in_process(container, RunWiring.from_env(os.environ))
    except (ValueError, SettingsError) as error:
        typer.echo(f"elm: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    console = WideConsole(highlight=False)
    if as_json or not console.is_terminal:
        report = sweep.execute(request)
    else:
        with _RichProgress(console) as progress:
            report = sweep.execute(request, progress)
    if as_json:
        typer.echo(json.dumps(summary_fields(report), indent=2))
    else:
        print_sweep_summary(report, console)
    if html_report is not None:
        where = (
            ", ".join(accounts or ["every account"])
            + " / "
            + ", ".join(regions or ["every region"])
        )
        write_report(sweep_page(report, where), html_report)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


def _request(
    dry_run: bool,
    accounts: list[str] | None,
    regions: list[str] | None,
    budget_seconds: float | None,
    resume_from: str | None,
) -> SweepRequest:
    """The options as a request; ValueError with a one-line reason for a bad one."""
    for account in accounts or ():
        if not is_account_id(account):
            raise ValueError(f"--account must be a 12-digit account id (got {account!r})")
    for region in regions or ():
        if not is_region_name(region):
            raise ValueError(f"--region is not a region name (got {region!r})")
    if budget_seconds is not None and budget_seconds <= 0:
        raise ValueError(f"--budget-seconds must be positive (got {budget_seconds:g})")
    return SweepRequest(
        accounts=frozenset(accounts) if accounts else None,
        regions=frozenset(regions) if regions else None,
        dry_run=True if dry_run else None,
        budget_seconds=budget_seconds,
        resume_from=GroupKey.from_cursor(resume_from) if resume_from else None,
    )


def _container(ctx: typer.Context) -> Injector:
    """The container the caller passed (tests: ``obj=``), else AWS from the environment."""
    if isinstance(ctx.obj, Injector):
        return ctx.obj
    return build_container(AwsModule(Settings.from_env(os.environ)))


class _RichProgress:
    """A progress bar over the records the sweep asks AWS Config about."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("reconciling"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("reconciling", total=None)

    def __enter__(self) -> SweepProgress:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total, completed=0)

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)


def print_sweep_summary(report: SweepReport, console: Console) -> None:
    """The sweep's report as tables: outcomes, per account, changes, not asked, failures."""
    mode = " (dry run: nothing written)" if report.dry_run else ""
    console.print(
        f"Reconciliation {report.run_id}{mode}: {report.records_scanned} open records scanned, "
        f"{report.groups} groups, {report.config_calls} AWS Config calls "
        f"({report.name_calls} by name).",
        soft_wrap=True,
    )
    outcomes = [o for o in SweepOutcome if report.count(o)]
    console.print(_outcome_table(report, outcomes))
    if report.per_account:
        console.print(_account_table(report, outcomes))
    if report.changes:
        title = "Would change" if report.dry_run else "Changed"
        console.print(_notes_table(title, report.changes, detail="members or reason"))
    if report.unresolved:
        console.print(_notes_table("Not asked about", report.unresolved, detail="reason"))
    if report.expiring:
        console.print(_expiring_table(report))
        console.print(
            "[yellow]These are open, yet carry a TTL: re-open each with "
            "`elm exceptions reopen ACCOUNT RULE_ID KEY` to remove it.[/yellow]",
            soft_wrap=True,
        )
    if report.unreadable:
        unreadable = Table(title="Unreadable items (skipped)", title_justify="left")
        unreadable.add_column("item", no_wrap=True)
        unreadable.add_column("reason", overflow="fold")
        for bad in report.unreadable:
            unreadable.add_row(bad.item, bad.reason)
        console.print(unreadable)
    if report.failures:
        failures = Table(title="Failed groups", title_justify="left")
        for column in ("group", "records", "reason"):
            failures.add_column(column, overflow="fold")
        for failure in report.failures:
            failures.add_row(failure.group.cursor, str(failure.records), failure.reason)
        console.print(failures)
    if report.scan_failure is not None:
        console.print(
            f"[bold red]The table was not read whole: {report.scan_failure}[/bold red]",
            soft_wrap=True,
        )
    if report.stopped is not None:
        where = report.stopped.resume_from
        hint = f"; resume with --resume-from {where.cursor}" if where else ""
        # Unwrapped, so the cursor can be copied whole.
        console.print(f"[yellow]Stopped: {report.stopped.reason}{hint}[/yellow]", soft_wrap=True)


def _outcome_table(report: SweepReport, outcomes: list[SweepOutcome]) -> Table:
    table = Table(title="Outcomes", title_justify="left")
    table.add_column("outcome")
    table.add_column("records", justify="right")
    for outcome in outcomes:
        table.add_row(f"[{_STYLE[outcome]}]{outcome.value}[/]", str(report.count(outcome)))
    if not outcomes:
        table.add_row("[dim]no open exceptions in scope[/]", "0")
    return table


def _account_table(report: SweepReport, outcomes: list[SweepOutcome]) -> Table:
    table = Table(title="Per account", title_justify="left")
    table.add_column("account")
    for outcome in outcomes:
        table.add_column(outcome.value, justify="right")
    for account, counts in report.per_account.items():
        table.add_row(account, *(str(counts.get(o, 0)) for o in outcomes))
    return table


def _expiring_table(report: SweepReport) -> Table:
    table = Table(title="Open, but DynamoDB will delete them (TTL)", title_justify="left")
    for column in ("account", "rule", "exception", "region"):
        table.add_column(column, no_wrap=True)
    table.add_column("expires (UTC)", no_wrap=True)
    for item in report.expiring:
        at = datetime.fromtimestamp(item.ttl, UTC).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            item.record_key.account_id,
            str(item.record_key.rule_id),
            item.record_key.key,
            item.region,
            at,
        )
    return table


def _notes_table(title: str, notes: tuple[RecordNote, ...], *, detail: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("account", "rule", "exception", "region", "outcome"):
        table.add_column(column, no_wrap=True)
    table.add_column(detail, overflow="fold")
    for note in notes:
        table.add_row(
            note.record_key.account_id,
            str(note.record_key.rule_id),
            note.record_key.key,
            note.region,
            f"[{_STYLE[note.outcome]}]{note.outcome.value}[/]",
            ", ".join(note.members) or note.reason,
        )
    return table
