"""`elm version`."""

from __future__ import annotations

from importlib.metadata import version as _package_version

import typer

from entrypoints.cli import app


@app.command()
def version() -> None:
    """Print ELM's version."""
    typer.echo(_package_version("elm"))
