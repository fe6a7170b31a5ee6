"""`elm exceptions list/show/add/import`: read and register exception records."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import boto3
import typer
from rich.table import Table

from application.errors import TransientError
from domain.events import is_account_id, is_region_name
from domain.lifecycle import Reopening
from domain.records import CLOSED_STATUS, KNOWN_STATUSES, ExceptionRecord, RecordKey
from entrypoints.cli import app
from entrypoints.cli._aws import reported, tables
from entrypoints.cli._console import WideConsole
from entrypoints.cli._errors import BAD_INPUT, fail
from entrypoints.composition.container import cli_session_name
from entrypoints.composition.tables import (
    DynamoExceptionStore,
    MalformedItemError,
    document_from_item,
    item_from_document,
    record_from_item,
    record_to_document,
)

__all__ = ["exceptions_app"]

exceptions_app = typer.Typer(
    name="exceptions",
    help="Read and register exception records in the exceptions table.",
    no_args_is_help=True,
)
app.add_typer(exceptions_app)


def _account(value: str, option: str) -> str:
    if not is_account_id(value):
        raise fail(f"{option} must be a 12-digit account id (got {value!r})", BAD_INPUT)
    return value


def _known_regions() -> frozenset[str]:
    """The regions, in every partition, botocore's endpoint data offers AWS Config in."""
    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("config", partition_name=partition)
    )


def _did_you_mean(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _print_records(title: str, records: list[ExceptionRecord]) -> None:
    table = Table(title=f"{title}: {len(records)} exception(s)")
    # Identifiers never wrap: a table too wide for the terminal is printed wider.
    table.add_column("Account", no_wrap=True)
    table.add_column("RuleId", no_wrap=True)
    table.add_column("Exception", no_wrap=True)
    table.add_column("Region", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("ResourceType", no_wrap=True)
    table.add_column("Deleted", justify="right", no_wrap=True)
    table.add_column("Updated", overflow="fold")
    for r in records:
        members = len(r.members())
        deleted = f"{len(r.deleted_members)}/{members}" if r.deleted_members else ""
        table.add_row(
            r.account_id,
            str(r.rule_id),
            r.key,
            r.region,
            r.status,
            r.resource_type or "",
            deleted,
            r.update_timestamp or "",
        )
    WideConsole().print(table)


@exceptions_app.command("list")
def list_exceptions(
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    rule_id: Annotated[
        int | None, typer.Option("--rule-id", "--rule", help="Only this RuleId.")
    ] = None,
    only_open: Annotated[
        bool, typer.Option("--open", help="Only open records (not RESOURCE_DELETED).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List exception records (a Query with --account and --rule, a Scan otherwise)."""
    if account is not None:
        _account(account, "--account")
    store = tables().store()
    with reported():
        if account is not None and rule_id is not None:
            found = store.list_for(account, rule_id)
        else:
            found = list(store.scan_open() if only_open else store.scan_all())
    records = sorted(
        (
            r
            for r in found
            if (account is None or r.account_id == account)
            and (rule_id is None or r.rule_id == rule_id)
            and not (only_open and r.is_closed)
        ),
        key=lambda r: (r.account_id, r.rule_id, r.key),
    )
    if as_json:
        typer.echo(json.dumps([record_to_document(r) for r in records], indent=2))
    else:
        _print_records(store.table_name, records)


@exceptions_app.command("show")
def show_exception(
    account: Annotated[str, typer.Argument(help="The 12-digit account id.")],
    rule_id: Annotated[int, typer.Argument(help="The RuleId.")],
    key: Annotated[str, typer.Argument(help="The Exception key (ID, ARN, or members).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one exception record and its history."""
    record_key = RecordKey(_account(account, "ACCOUNT"), rule_id, key)
    store = tables().store()
    with reported():
        item = store.get_item(record_key)
        if item is None:
            raise fail(f"no exception ({record_key.partition_key}, {key}) in {store.table_name}")
        record = record_from_item(item)
        document = document_from_item(item)
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    console = WideConsole()
    details = Table.grid(padding=(0, 2))
    for name, value in document.items():
        if name != "History":
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            details.add_row(f"[bold]{name}[/bold]", shown)
    console.print(details)
    if record.history:
        history = Table(title="History")
        for column in ("At", "Action", "Member", "EventId"):
            history.add_column(column, no_wrap=True)
        for entry in document["History"]:
            history.add_row(entry["At"], entry["Action"], entry.get("Member", ""), entry["EventId"])
        console.print(history)


@exceptions_app.command("reopen")
def reopen_exception(
    account: Annotated[str, typer.Argument(help="The 12-digit account id.")],
    rule_id: Annotated[int, typer.Argument(help="The RuleId.")],
    key: Annotated[str, typer.Argument(help="The Exception key (ID, ARN, or members).")],
    status: Annotated[
        str, typer.Option("--status", help="The ExceptionStatus it gets back.")
    ] = "ACTIVE",
) -> None:
    """Re-open an exception ELM closed (or one that still carries ELM's TTL).

    Sets the status, removes TTL (DynamoDB would otherwise delete the active exception when
    it expires) and DeletedMembers (a group then waits for each member's deletion again);
    History is kept. The sweep lists open exceptions that still carry a TTL.
    """
    record_key = RecordKey(_account(account, "ACCOUNT"), rule_id, key)
    status = status.strip()
    if not status or status == CLOSED_STATUS:
        raise fail(f"--status must be an open status such as ACTIVE (got {status!r})", BAD_INPUT)
    store = tables().store()
    where = f"({record_key.partition_key}, {key})"
    with reported():
        record = store.get(record_key)
        if record is None:
            raise fail(f"no exception {where} in {store.table_name}")
        if not record.is_closed and record.ttl is None and not record.deleted_members:
            typer.echo(f"exception {where} is already open ({record.status}) with no TTL")
            return
        now = datetime.now(UTC)
        store.reopen(Reopening.of(record_key, status=status, by=cli_session_name(), now=now))
    typer.echo(
        f"exception {where} re-opened as {status} in {store.table_name}: TTL and "
        "DeletedMembers removed"
    )


@exceptions_app.command("add")
def add_exception(
    account: Annotated[str, typer.Option("--account", help="The 12-digit account id.")],
    rule_id: Annotated[int, typer.Option("--rule-id", "--rule", help="The rule's RuleId.")],
    key: Annotated[str, typer.Option("--key", help="Resource ID, ARN, or members joined by ,")],
    region: Annotated[str, typer.Option("--region", help="The region it applies to.")],
    resource_type: Annotated[
        str | None, typer.Option("--resource-type", help="e.g. AWS::EC2::SecurityGroup")
    ] = None,
    status: Annotated[str, typer.Option("--status", help="ExceptionStatus.")] = "ACTIVE",
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a record with the same key.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Accept a status or region ELM does not know."),
    ] = False,
) -> None:
    """Register one exception record.

    The status must be one of ACTIVE, EXPIRED, RESOURCE_DELETED and the region one AWS
    Config is offered in, unless --force.
    """
    _account(account, "--account")
    if not is_region_name(region):
        raise fail(f"--region must be a region name such as eu-west-1 (got {region!r})", BAD_INPUT)
    if not force and region not in _known_regions():
        raise fail(
            f"--region {region} is not a region AWS Config is offered in"
            f"{_did_you_mean(region, _known_regions())}; use --force to write it anyway",
            BAD_INPUT,
        )
    if not key.strip():
        raise fail("--key must not be empty", BAD_INPUT)
    status = status.strip()
    if not status:
        raise fail("--status must not be empty", BAD_INPUT)
    if not force and status not in KNOWN_STATUSES:
        raise fail(
            f"--status {status} is not one of {', '.join(KNOWN_STATUSES)}"
            f"{_did_you_mean(status, KNOWN_STATUSES)}; use --force to write it anyway",
            BAD_INPUT,
        )
    record = ExceptionRecord(
        RecordKey(account, rule_id, key.strip()),
        region=region,
        status=status,
        resource_type=resource_type or None,
    )
    wiring = tables()
    store, catalog = wiring.store(), wiring.catalog()
    with reported():
        if catalog.get(rule_id) is None:
            raise fail(
                f"rule {rule_id} is not in {catalog.table_name}; register it with `elm rules add`"
            )
        if not replace and store.get(record.record_key) is not None:
            raise fail(
                f"exception ({record.record_key.partition_key}, {record.key}) already exists; "
                "use --replace"
            )
        store.add(record)
    typer.echo(
        f"exception ({record.record_key.partition_key}, {record.key}) written to {store.table_name}"
    )


@exceptions_app.command("import")
def import_exceptions(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="JSON lines, one item per line."
        ),
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite records that already exist.")
    ] = False,
) -> None:
    """Import exception records from JSON lines (the table's attribute names, plain JSON values).

    Every line is checked first; if any is bad nothing is written. Attributes ELM does not
    model are written as they are.
    """
    store = tables().store()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"{file}: {error}", BAD_INPUT) from None
    items, errors = _parse(file, text, store, replace=replace)
    if errors:
        for message in errors:
            typer.echo(message, err=True)
        raise fail(f"{len(errors)} bad line(s) in {file}; nothing imported", BAD_INPUT)
    written = 0
    for line_number, item in items:
        try:
            store.put_item(item)
        except (TransientError, MalformedItemError) as error:
            typer.echo(f"{file}:{line_number}: {error}", err=True)
            raise fail(
                f"imported {written} of {len(items)} record(s) from {file}; "
                f"line {line_number} and later not imported"
            ) from None
        written += 1
    typer.echo(f"imported {written} record(s) from {file} into {store.table_name}")


def _parse(
    file: Path, text: str, store: DynamoExceptionStore, *, replace: bool
) -> tuple[list[tuple[int, Any]], list[str]]:
    items: list[tuple[int, Any]] = []
    errors: list[str] = []
    seen: dict[RecordKey, int] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line, parse_float=Decimal)
            if not isinstance(document, dict):
                raise ValueError("a line must be a JSON object")
            item = item_from_document(document)
            record = record_from_item(item)
            if record.record_key in seen:
                raise ValueError(f"same key as line {seen[record.record_key]}")
            seen[record.record_key] = line_number
            if not replace:
                with reported():
                    exists = store.get(record.record_key) is not None
                if exists:
                    raise ValueError("already in the table (use --replace to overwrite)")
        except ValueError as error:  # JSONDecodeError and MalformedItemError included
            errors.append(f"{file}:{line_number}: {error}")
            continue
        items.append((line_number, item))
    if not items and not errors:
        errors.append(f"{file}: no records")
    return items, errors
