"""`elm reconcile --enqueue`: start a run on the deployed sweep queue, and follow its ledger.

The deployed planner's own code puts the run's Scan segments on the sweep queue; the
deployed workers do the rest. Following reads the run's counters (one consistent read a
poll) until the last worker wrote the summary, or until the time given runs out: the run
goes on either way, and `Ctrl-C` only stops the following.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import typer
from injector import Injector
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from application.errors import TransientError
from application.ports import Clock
from application.sweep_report import SweepRequest
from application.sweep_run_ports import RunTotals
from entrypoints.cli._console import WideConsole
from entrypoints.composition.settings import SettingsError
from entrypoints.composition.sweep_run_wiring import RunParts, RunWiring, run_parts

__all__ = ["POLL_SECONDS", "enqueue_run", "pause"]

POLL_SECONDS = 5.0
"""How often following reads the run's counters."""


def pause(seconds: float) -> None:
    """Wait between two reads of the run (tests put the deployed workers' turn here)."""
    time.sleep(seconds)


_EXIT_FAILED = 1
_EXIT_BAD_INPUT = 2


def enqueue_run(
    container: Injector,
    request: SweepRequest,
    *,
    as_json: bool,
    follow: bool,
    minutes: float,
    sleep: Callable[[float], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Start the run; with ``follow``, wait for its end (exit 1 if it did not end in time)."""
    if minutes <= 0:
        typer.echo(f"elm: --follow-minutes must be positive (got {minutes:g})", err=True)
        raise typer.Exit(_EXIT_BAD_INPUT)
    try:
        parts = run_parts(container, RunWiring.from_env(os.environ))
    except SettingsError as error:
        typer.echo(f"elm: {error}", err=True)
        raise typer.Exit(_EXIT_BAD_INPUT) from None
    policy = parts.worker.sweep.policy
    dry_run = policy.dry_run if request.dry_run is None else request.dry_run
    clock = container.get(Clock)  # type: ignore[type-abstract]
    run_id = f"sweep-{clock.now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    try:
        parts.planner.execute(
            SweepRequest(run_id=run_id, accounts=request.accounts, regions=request.regions),
            dry_run,
        )
    except TransientError as error:
        typer.echo(f"elm: could not start the run: {error}", err=True)
        raise typer.Exit(_EXIT_FAILED) from None
    segments = parts.planner.settings.segments
    console = WideConsole(highlight=False)
    if not follow:
        if as_json:
            typer.echo(json.dumps({"run": run_id, "segments": segments, "dryRun": dry_run}))
        else:
            console.print(
                f"Started sweep run {run_id}: {segments} segment(s) on the sweep queue"
                f"{' (dry run)' if dry_run else ''}.",
                soft_wrap=True,
            )
        return
    if not as_json:
        console.print(f"Started sweep run {run_id}; following it (Ctrl-C stops only this).")
    totals = _follow(parts, run_id, console, as_json, minutes, sleep or pause, monotonic)
    if as_json:
        typer.echo(json.dumps(_fields(totals, run_id), indent=2))
    else:
        _print(totals, run_id, console)
    if totals is None or not totals.done:
        if not as_json:
            console.print(
                f"[yellow]Run {run_id} did not finish within {minutes:g} min; it goes on. "
                "An item that keeps failing waits in the sweep DLQ.[/yellow]",
                soft_wrap=True,
            )
        raise typer.Exit(_EXIT_FAILED)


def _follow(
    parts: RunParts,
    run_id: str,
    console: Console,
    quiet: bool,
    minutes: float,
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> RunTotals | None:
    deadline = monotonic() + minutes * 60
    progress = Progress(
        TextColumn("work items"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet or not console.is_terminal,
    )
    task = progress.add_task("items", total=None)
    totals: RunTotals | None = None
    with progress:
        while True:
            try:
                totals = parts.ledger.totals(run_id)
            except TransientError as error:
                console.print(f"[yellow]reading the run: {error}; trying again[/yellow]")
            if totals is not None:
                progress.update(task, total=totals.planned, completed=totals.finished)
                if totals.done:
                    return totals
            if monotonic() >= deadline:
                return totals
            sleep(POLL_SECONDS)


def _fields(totals: RunTotals | None, run_id: str) -> dict[str, Any]:
    if totals is None:
        return {"run": run_id, "finished": False}
    return {
        "run": run_id,
        "finished": totals.done,
        "dryRun": totals.dry_run,
        "planned": totals.planned,
        "done": totals.finished,
        "failedAttempts": totals.failures,
        "configCalls": totals.config_calls,
        "recordsScanned": totals.records_scanned,
        "counts": dict(sorted(totals.counts.items())),
    }


def _print(totals: RunTotals | None, run_id: str, console: Console) -> None:
    if totals is None:
        console.print(f"Run {run_id} is not in the run ledger.")
        return
    state = "finished" if totals.done else "still running"
    mode = " (dry run: nothing written)" if totals.dry_run else ""
    console.print(
        f"Sweep run {run_id} {state}{mode}: {totals.finished} of {totals.planned} work items, "
        f"{totals.failures} failed attempt(s) retried, {totals.config_calls} AWS Config calls, "
        f"{totals.records_scanned} open records scanned.",
        soft_wrap=True,
    )
    table = Table(title="Outcomes", title_justify="left")
    table.add_column("outcome")
    table.add_column("records", justify="right")
    for outcome, count in sorted(totals.counts.items()):
        table.add_row(outcome, str(count))
    if not totals.counts:
        table.add_row("[dim]nothing settled yet[/]", "0")
    console.print(table)
