"""`elm tables create`: the two tables, from infra/elm-tables.yaml, on any endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from botocore.exceptions import ClientError

from entrypoints.cli import app
from entrypoints.cli._aws import reported, tables
from entrypoints.cli._errors import fail

__all__ = ["TABLES_TEMPLATE", "tables_app"]

TABLES_TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "elm-tables.yaml"
"""infra/elm-tables.yaml of the source checkout."""

tables_app = typer.Typer(
    name="tables",
    help="Create ELM's two tables (the rules and the exceptions) on the configured endpoint.",
    no_args_is_help=True,
)
app.add_typer(tables_app)


@tables_app.command("create")
def create_tables(
    stack_name: Annotated[
        str, typer.Option("--stack-name", help="The CloudFormation stack to create.")
    ] = "elm-tables",
) -> None:
    """Deploy infra/elm-tables.yaml as a stack, naming the tables as ELM_RULES_TABLE and
    ELM_EXCEPTIONS_TABLE do, and wait until it is created.

    Works on AWS and on a local endpoint (AWS_ENDPOINT_URL, e.g. the one `elm local --serve`
    prints). Exits 1 when the stack exists already or cannot be created.
    """
    wiring = tables()
    settings = wiring.settings
    try:
        template = TABLES_TEMPLATE.read_text(encoding="utf-8")
    except OSError as error:
        raise fail(f"{TABLES_TEMPLATE}: {error.strerror}; run elm from a checkout") from None
    where = f"on {settings.endpoint_url}" if settings.endpoint_url else "on AWS"
    with reported():
        cloudformation = wiring.cloudformation()
        try:
            cloudformation.create_stack(
                StackName=stack_name,
                TemplateBody=template,
                Parameters=[
                    {"ParameterKey": "RulesTableName", "ParameterValue": settings.rules_table},
                    {
                        "ParameterKey": "ExceptionsTableName",
                        "ParameterValue": settings.exceptions_table,
                    },
                ],
            )
            cloudformation.get_waiter("stack_create_complete").wait(
                StackName=stack_name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
            )
        except ClientError as error:
            raise fail(f"stack {stack_name} {where}: {error}") from None
    typer.echo(
        f"stack {stack_name} created {where}: tables {settings.rules_table} and "
        f"{settings.exceptions_table}"
    )
