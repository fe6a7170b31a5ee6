"""The `elm` command line. Each sub-module registers its commands on `app`."""

from __future__ import annotations

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="elm",
    help="ELM: close AWS Config exceptions whose resources AWS Config confirms deleted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
        version,
    )


_register()


def main() -> None:
    """Console-script entry point."""
    app()
