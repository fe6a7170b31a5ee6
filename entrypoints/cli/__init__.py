"""The `elm` command line. Each sub-module registers its commands on `app`."""

from __future__ import annotations

from importlib.metadata import version as _package_version
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="elm",
    help="ELM: close AWS Config exceptions whose resources AWS Config confirms deleted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(_package_version("elm"))
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print ELM's version."
        ),
    ] = False,
) -> None:
    """ELM: close AWS Config exceptions whose resources AWS Config confirms deleted."""


def _register() -> None:
    # Imported for their side effect: each module adds its commands to `app`.
    from entrypoints.cli import (  # noqa: F401
        exceptions,
        local,
        package,
        process,
        reconcile,
        rules,
        simulate,
        tables,
        version,
    )


_register()


def main() -> None:
    """Console-script entry point."""
    app()
