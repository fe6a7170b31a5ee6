"""`elm process EVENT.json...`: replay events (say, a DLQ dump) through the handler's use case.

Each file holds one EventBridge event, a Lambda SQS event (``{"Records": [...]}``) or the
output of ``aws sqs receive-message`` (``{"Messages": [...]}``). Every file is read and
checked before any event is processed, so a bad file changes nothing.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
from injector import Injector
from rich.table import Table

from application.handle_change import ChangeResult, HandleComplianceChange
from application.ports import Message
from entrypoints.aws_lambda.reporting import result_fields
from entrypoints.aws_lambda.sqs_events import (
    NotAnSqsBatch,
    messages_from_receive_output,
    messages_from_sqs_event,
)
from entrypoints.cli import app
from entrypoints.cli._aws import require_region
from entrypoints.cli._console import WideConsole
from entrypoints.cli._errors import BAD_INPUT, FAILED, fail
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings, SettingsError

__all__ = ["BadEventFile", "container_for", "process", "read_event_file"]


def _aws_container(settings: Settings) -> Injector:
    require_region()
    return build_container(AwsModule(settings))


container_for: Callable[[Settings], Injector] = _aws_container
"""How the command gets its adapters; tests replace it with an in-memory wiring."""


class BadEventFile(ValueError):
    """A file that holds no event ELM can process; the message names the file."""


def read_event_file(path: Path) -> list[Message]:
    """The messages of one file: its SQS records, or the one EventBridge event it holds."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise BadEventFile(f"{path}: cannot read: {reason}") from error
    if not text.strip():
        raise BadEventFile(f"{path}: the file is empty (expected one event as JSON)")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadEventFile(f"{path}: not JSON: {error}") from error
    if not isinstance(document, dict):
        raise BadEventFile(f"{path}: expected a JSON object (an EventBridge event or an SQS event)")
    try:
        if "Records" in document:
            return messages_from_sqs_event(document)
        if "Messages" in document:
            return messages_from_receive_output(document)
    except NotAnSqsBatch as error:
        raise BadEventFile(f"{path}: {error}") from error
    # One EventBridge event; the use case judges its fields like any SQS body.
    return [Message(path.name, text)]


@app.command()
def process(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="EventBridge event or SQS event JSON files.",
            metavar="EVENT.json...",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and report, but write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcomes as JSON.")] = False,
) -> None:
    """Run events through the handler against the configured tables (replay a DLQ).

    Exits 1 when any event is invalid or failed, 2 on a bad file or setting.
    """
    try:
        batches = [(path, read_event_file(path)) for path in files]
        settings = Settings.from_env(os.environ)
    except (BadEventFile, SettingsError) as error:
        raise fail(str(error), BAD_INPUT) from None
    if dry_run:
        settings = attrs.evolve(settings, dry_run=True)
    handle = container_for(settings).get(HandleComplianceChange)
    rows = [
        (path, message, handle.execute(message.body))
        for path, messages in batches
        for message in messages
    ]
    if as_json:
        typer.echo(json.dumps([_row_fields(*row) for row in rows], indent=2))
    else:
        _print_table(rows, dry_run=settings.dry_run)
    if any(result.outcome.fails_record for _, _, result in rows):
        raise typer.Exit(FAILED)


def _row_fields(path: Path, message: Message, result: ChangeResult) -> dict[str, Any]:
    return {"file": str(path), "message_id": message.message_id, **result_fields(result)}


def _print_table(rows: Sequence[tuple[Path, Message, ChangeResult]], *, dry_run: bool) -> None:
    table = Table(title="ELM process" + (" (dry run: nothing written)" if dry_run else ""))
    for column in ("Event", "Outcome", "Rule", "Resource", "Account/Region"):
        table.add_column(column, no_wrap=True)
    table.add_column("Reason", overflow="fold", ratio=1)
    for path, message, result in rows:
        # An EventBridge file is its own message; an SQS record is named by its message id.
        source = path.name if message.message_id == path.name else message.message_id
        table.add_row(
            source,
            result.outcome.value,
            result.rule_name or "-",
            result.resource_id or "-",
            f"{result.account_id}/{result.region}" if result.account_id else "-",
            result.reason,
        )
    console = WideConsole()
    console.print(table)
    counts = Counter(result.outcome.value for _, _, result in rows)
    console.print(", ".join(f"{outcome}: {n}" for outcome, n in sorted(counts.items())))
