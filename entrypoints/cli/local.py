"""`elm local`: the production flow on a local AWS (moto server in this process), end to end."""

from __future__ import annotations

import json
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text

from application.reconcile import SweepOutcome
from domain.records import RecordKey
from entrypoints.cli import app, render
from entrypoints.cli._console import WideConsole
from entrypoints.cli._errors import BAD_INPUT, fail
from entrypoints.cli.html_report import check_report_path, local_page, write_report
from entrypoints.composition.tables import record_to_document
from entrypoints.local.moto_aws import PRODUCTION_ACCOUNT, PRODUCTION_REGION, LocalAwsError
from entrypoints.local.pipeline import (
    FILTERED,
    DeliveredEvent,
    LocalPipelineError,
    LocalReport,
    run_local_pipeline,
)
from entrypoints.local.scenario import ScenarioError, load_scenario

__all__ = [
    "DEFAULT_SCENARIO",
    "SIMULATED_INVENTORY",
    "local_command",
    "print_report",
    "report_document",
    "serve_exports",
]

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "examples" / "local-estate.yaml"
SIMULATED_INVENTORY = (
    "AWS Config's inventory is simulated: an in-memory twin stands behind the inventory "
    "port, because moto's Config cannot report deleted resources."
)
ENVELOPE_NOTE = (
    "moto delivers forwarded events with the production bus's region and no account; "
    "they are restored to the sender's, as EventBridge delivers them, before the handler runs."
)
EXIT_UNMET = 1
SERVING_MARK = "The local AWS is serving"
LOCAL_CREDENTIAL = "elm-local"
"""Any key works on moto; this one makes clear it is not a real one."""

_STYLE = {**render.OUTCOME_STYLE, FILTERED: "dim italic"}


@app.command("local")
def local_command(
    scenario: Annotated[
        Path,
        typer.Option(
            "--scenario",
            metavar="SCENARIO.yaml",
            help="The estate to run (the `elm simulate` format).",
        ),
    ] = DEFAULT_SCENARIO,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of tables.")
    ] = False,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Keep the local AWS running after the run, print the exports that point "
            "every other elm command at it, and stop on Ctrl-C.",
        ),
    ] = False,
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="With --serve: the port (0: a free one)."),
    ] = 0,
    html_report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE.html",
            help="Also write the run as a self-contained HTML page (opens offline).",
        ),
    ] = None,
) -> None:
    """Run ELM's production flow end to end on a local AWS, with no AWS account.

    Starts a moto server in this process, deploys the three templates (elm-send-events
    into every target account and region through a StackSet), seeds the tables, puts each
    event on its account's default bus, drains the production queue through the Lambda
    handler, runs the reconciliation sweep, and reports every exception before and after.
    The server is stopped before the command returns; with --serve it keeps running, with
    the stacks deployed and the tables as the run left them, until Ctrl-C. Events a real
    bus cannot deliver as written are skipped with a note. Exits 2 on a bad scenario, 1 when
    an outcome differs from the scenario's `expect`.
    """
    started = time.monotonic()
    if html_report is not None:
        check_report_path(html_report)
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as error:
        raise fail(str(error), BAD_INPUT) from None
    stderr = WideConsole(stderr=True, highlight=False)
    holder = _Server(started, as_json=as_json, html_report=html_report) if serve else None
    try:
        with _progress(stderr, enabled=not as_json) as progress:
            report = run_local_pipeline(
                loaded, progress, serve=holder.hold if holder else None, port=port
            )
    except LocalPipelineError as error:
        raise fail(str(error), BAD_INPUT) from None
    except LocalAwsError as error:
        raise fail(f"the local AWS could not be set up: {error}") from None
    except (BotoCoreError, ClientError) as error:
        # moto refused a call the pipeline makes: a template or an API it does not support.
        raise fail(f"the local AWS refused a call: {error}") from None
    if holder is None:
        elapsed = time.monotonic() - started
        _print(report, elapsed, as_json=as_json)
        if html_report is not None:
            write_report(local_page(report, elapsed), html_report)
    for event in report.unmet:
        assert event.event.expect is not None
        typer.echo(
            f"error: {loaded.source}: {event.event.label} expected {event.event.expect.value}, "
            f"got {event.outcome}",
            err=True,
        )
    for outcome, expected, got in report.unmet_sweep:
        typer.echo(
            f"error: {loaded.source}: sweep expected {outcome.value} {expected}, got {got}",
            err=True,
        )
    if report.unmet or report.unmet_sweep:
        raise typer.Exit(EXIT_UNMET)


def _print(report: LocalReport, elapsed: float, *, as_json: bool, serving: bool = False) -> None:
    if as_json:
        typer.echo(json.dumps(report_document(report, elapsed), indent=2))
    else:
        print_report(report, elapsed, WideConsole(highlight=False), serving=serving)


def serve_exports(report: LocalReport) -> list[str]:
    """The shell lines that point boto3, and so every `elm` command, at the local AWS."""
    values = {
        "AWS_ENDPOINT_URL": report.endpoint,
        "AWS_DEFAULT_REGION": PRODUCTION_REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIAL,
        "ELM_EXCEPTIONS_TABLE": report.settings.exceptions_table,
        "ELM_RULES_TABLE": report.settings.rules_table,
    }
    return [
        "unset AWS_PROFILE AWS_SESSION_TOKEN",
        *(f"export {name}={shlex.quote(value)}" for name, value in values.items()),
    ]


class _Server:
    """Holds the local AWS open: prints the report and the exports, waits for Ctrl-C."""

    def __init__(self, started: float, *, as_json: bool, html_report: Path | None) -> None:
        self._started = started
        self._as_json = as_json
        self._html_report = html_report

    def hold(self, report: LocalReport) -> None:
        elapsed = time.monotonic() - self._started
        _print(report, elapsed, as_json=self._as_json, serving=True)
        if self._html_report is not None:
            write_report(local_page(report, elapsed), self._html_report)
        lines = serve_exports(report)
        if self._as_json:
            typer.echo(json.dumps({"serving": report.endpoint, "exports": lines}))
        else:
            typer.echo(f"{SERVING_MARK} at {report.endpoint}; in another shell, run:")
            for line in lines:
                typer.echo(f"  {line}")
            typer.echo(
                "then any elm command (elm rules list, elm exceptions list ...). Ctrl-C stops it."
            )
        sys.stdout.flush()
        # A shell starts a background job with SIGINT ignored: Ctrl-C and SIGTERM stop the
        # server however it was started.
        previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("elm local: stopping the local AWS", err=True)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _RichProgress:
    """Each stage a bar on the terminal; the previous one is completed when the next starts."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, description: str, total: int) -> None:
        if self._progress is None:
            return
        self._finish()
        self._task = self._progress.add_task(description, total=max(total, 1))

    def advance(self, count: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)

    def _finish(self) -> None:
        if self._progress is not None and self._task is not None:
            total = self._progress.tasks[self._task].total
            self._progress.update(self._task, completed=total)


@contextmanager
def _progress(console: Console, *, enabled: bool) -> Iterator[_RichProgress]:
    if not enabled or not console.is_terminal:
        yield _RichProgress(None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, redirect_stdout=False) as bars:
        tracker = _RichProgress(bars)
        yield tracker
        tracker._finish()


def report_document(report: LocalReport, elapsed: float | None = None) -> dict[str, Any]:
    """The report as JSON-ready data."""
    changed_by = _changed_by(report)
    before = {r.record_key: r for r in report.before}
    after = {r.record_key: r for r in report.after}
    document: dict[str, Any] = {
        "scenario": report.scenario.source,
        "description": report.scenario.description,
        "endpoint": report.endpoint,
        "production": {"account": PRODUCTION_ACCOUNT, "region": PRODUCTION_REGION},
        "target_accounts": list(report.target_accounts),
        "target_regions": list(report.target_regions),
        "config_inventory": "simulated",
        "notes": [SIMULATED_INVENTORY, ENVELOPE_NOTE],
        "events": [_event_document(e) for e in report.events],
        "skipped": [
            {"number": s.number, "event": s.label, "reason": s.reason} for s in report.skipped
        ],
        "batches": list(report.batches),
        "left_on_queue": report.left_on_queue,
        "metrics": dict(report.metrics),
        "sweep": _sweep_document(report),
        "published": [dict(e) for e in report.published],
        "exceptions": [
            {
                "before": record_to_document(before[key]) if key in before else None,
                "after": record_to_document(after[key]),
                "changed_by": changed_by.get(_key(key), []),
            }
            for key in after
        ],
        "summary": {
            "outcomes": report.counts,
            "recovered_by_sweep": len(report.recovered),
            "unmet_expectations": len(report.unmet) + len(report.unmet_sweep),
        },
    }
    if elapsed is not None:
        document["seconds"] = round(elapsed, 1)
    return document


def _event_document(event: DeliveredEvent) -> dict[str, Any]:
    document: dict[str, Any] = {
        "event": event.event.label,
        "wave": event.wave,
        "account": event.account_id,
        "region": event.region,
        "rule": event.rule_name,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "message_id": event.message_id,
        "outcome": event.outcome,
        "batch_item_failure": event.batch_failed,
    }
    if event.log is not None:
        document["log"] = dict(event.log)
    if event.event.expect is not None:
        document["expected"] = event.event.expect.value
    if event.event.note is not None:
        document["note"] = event.event.note
    return document


def _sweep_document(report: LocalReport) -> dict[str, Any] | None:
    sweep = report.sweep
    if sweep is None:
        return None
    return {
        "run_id": sweep.run_id,
        "records_scanned": sweep.records_scanned,
        "config_calls": sweep.config_calls,
        "outcomes": {o.value: n for o, n in sweep.counts.items() if n},
        "changes": [
            {
                "AccountId_RuleId": note.record_key.partition_key,
                "Exception": note.record_key.key,
                "Region": note.region,
                "outcome": note.outcome.value,
                "reason": note.reason,
                "recovered_by_sweep": note.outcome
                in (SweepOutcome.CLOSED, SweepOutcome.MEMBER_DELETED),
            }
            for note in sweep.changes
        ],
    }


def _changed_by(report: LocalReport) -> dict[tuple[str, str], list[str]]:
    """By (AccountId_RuleId, Exception): the events (by number) and the sweep that changed it."""
    changed: dict[tuple[str, str], list[str]] = {}
    for event in report.events:
        for matched in (event.log or {}).get("matched_records", []):
            if matched.get("outcome") in ("closed", "member-deleted"):
                key = (str(matched["partition_key"]), str(matched["exception"]))
                changed.setdefault(key, []).append(f"event {event.number}")
    for record_key in report.recovered:
        changed.setdefault(_key(record_key), []).append("sweep")
    return changed


def _key(record_key: RecordKey) -> tuple[str, str]:
    return (record_key.partition_key, record_key.key)


def print_report(
    report: LocalReport, elapsed: float, console: Console, *, serving: bool = False
) -> None:
    """The report as tables a person reads."""
    scenario = report.scenario
    console.print(render.scenario_title("elm local: ", scenario))
    instances = len(report.target_accounts) * len(report.target_regions)
    console.print(
        f"Local AWS: moto server at {report.endpoint}, in this process. Deployed "
        f"elm-tables and elm-status-update in the production account {PRODUCTION_ACCOUNT} "
        f"({PRODUCTION_REGION}), and elm-send-events through a StackSet into "
        f"{', '.join(report.target_accounts)} x {', '.join(report.target_regions)} "
        f"({instances} stack instances)."
    )
    settings = report.settings
    allowed = render.allowed_accounts(settings)
    console.print(
        f"Handler settings, from the processor's environment in the template: rule prefix "
        f"{settings.rule_prefix or '(none)'}, allowed accounts {allowed}, retention "
        f"{settings.retention_days} days" + (", DRY RUN" if settings.dry_run else "") + "."
    )
    console.print(Text(f"Note: {SIMULATED_INVENTORY}", style="bold yellow"))
    console.print(Text(f"Note: {ENVELOPE_NOTE}", style="yellow"))
    console.print(_events_table(report))
    for skipped in report.skipped:
        console.print(
            Text(f"Skipped {skipped.label} (#{skipped.number}): {skipped.reason}.", style="yellow")
        )
    failures = sum(1 for e in report.events if e.batch_failed)
    console.print(
        f"The queue was drained in {len(report.batches)} batches "
        f"({', '.join(str(b) for b in report.batches) or 'none'} records) into "
        f"entrypoints.lambda_handler.handler; batchItemFailures: {failures}"
        + (
            f" ({report.left_on_queue} left on the queue: SQS delivers them again, "
            "then moves them to the DLQ)."
            if report.left_on_queue
            else "."
        )
    )
    if report.metrics:
        metrics = ", ".join(f"{name} {value}" for name, value in sorted(report.metrics.items()))
        console.print(f"CloudWatch metrics the handler emitted: {metrics}.")
    _print_sweep(report, console)
    console.print(_exceptions_table(report))
    if report.published:
        console.print(
            render.published_table(
                f"ELM's own events, as a queue subscribed to them on the bus received them "
                f"({len(report.published)})",
                report.published,
            )
        )
    counts = ", ".join(f"[{_STYLE.get(o, '')}]{o}[/] {n}" for o, n in sorted(report.counts.items()))
    console.print(
        f"Outcomes: {counts}. Recovered by the sweep: {len(report.recovered)}. "
        f"Done in {elapsed:.1f} s; "
        + ("the moto server keeps running." if serving else "the moto server is stopped.")
    )


def _events_table(report: LocalReport) -> Table:
    table = Table(
        title="Events, as put on the target accounts' buses",
        title_justify="left",
        show_lines=True,
    )
    table.add_column("#", justify="right")
    table.add_column("wave", justify="right")
    table.add_column("account\nregion", no_wrap=True)
    render.add_event_columns(table)
    for event in report.events:
        table.add_row(
            str(event.number),
            str(event.wave),
            f"{event.account_id}\n{event.region}",
            render.rule_resource_cell(event.rule_name, event.resource_type, event.resource_id),
            _outcome(event),
            _reason(event),
        )
    return table


def _outcome(event: DeliveredEvent) -> Text:
    style = _STYLE.get(event.outcome, "")
    expect = event.event.expect
    return render.outcome_cell(event.outcome, style, expect, met=event.meets_expectation)


def _reason(event: DeliveredEvent) -> Text:
    if event.log is None:
        reason = "not forwarded: the target account's EventBridge rule matches deletions only"
        members = []
    else:
        reason = str(event.log.get("reason", ""))
        members = [m for r in event.log.get("matched_records", []) for m in r.get("members", [])]
    return render.reason_cell(reason, members, event.event.note)


def _print_sweep(report: LocalReport, console: Console) -> None:
    sweep = report.sweep
    if sweep is None:
        return
    counts = ", ".join(f"{o.value} {n}" for o, n in sweep.counts.items() if n) or "nothing"
    console.print(
        "Reconciliation sweep (the deployed planner, the FIFO sweep queue, the workers): "
        f"{sweep.records_scanned} open records scanned, {sweep.groups} group(s), "
        f"{sweep.config_calls} AWS Config calls: {counts}."
    )
    for note in sweep.changes:
        if note.outcome in (SweepOutcome.CLOSED, SweepOutcome.MEMBER_DELETED):
            console.print(
                Text(
                    f"  recovered by the sweep: {note.record_key.partition_key} "
                    f"{note.record_key.key} ({note.region}) {note.outcome.value}: its deletion "
                    "event never arrived",
                    style="bold green",
                )
            )


def _exceptions_table(report: LocalReport) -> Table:
    table = Table(
        title="Exceptions, before and after",
        title_justify="left",
        caption="deleted: composite members confirmed deleted. bold: changed.",
        caption_justify="left",
        show_lines=True,
    )
    table.add_column("AccountId_RuleId\nRegion", no_wrap=True)
    table.add_column("Exception\nResourceType", no_wrap=True)
    table.add_column("before", overflow="fold")
    table.add_column("after", overflow="fold")
    table.add_column("deleted", justify="right")
    table.add_column("changed by", overflow="fold")
    before = {r.record_key: r for r in report.before}
    changed_by = _changed_by(report)
    for record in report.after:
        previous = before.get(record.record_key)
        table.add_row(
            render.record_key_cell(record),
            render.exception_cell(record),
            previous.status if previous else "-",
            Text(record.status, style="green" if record.is_closed else ""),
            render.deleted_cell(record),
            ", ".join(changed_by.get(_key(record.record_key), [])) or "-",
            style="bold" if previous != record else None,
        )
    return table
