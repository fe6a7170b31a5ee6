"""`elm package`: the Lambda zip, reproducible, with its size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli import app
from entrypoints.cli._errors import fail
from entrypoints.local.lambda_zip import (
    DEFAULT_OUTPUT,
    LAMBDA_PLATFORM,
    LAMBDA_PYTHON,
    PackageError,
    PackageReport,
    build_lambda_zip,
)

__all__ = ["code_form_text", "package_command", "size_text"]


@app.command("package")
def package_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the zip.")
    ] = DEFAULT_OUTPUT,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    bytecode: Annotated[
        bool,
        typer.Option(
            "--bytecode/--source",
            help=f"Bytecode compiled by a Python {LAMBDA_PYTHON} found here (the default), "
            "or source only.",
        ),
    ] = True,
) -> None:
    """Build the Lambda zip: the handlers' code and their dependencies only.

    No tests, no command-line extras, and not boto3, which the Lambda runtime provides.
    Dependencies are the versions installed here, fetched by pip for the Lambda's platform;
    the same sources and versions always give the same bytes. With a Python of the
    runtime's version on this machine the modules go in as bytecode, which spares the
    Lambda compiling them on each cold start; without one, as source. Exits 1 if it cannot
    be built.
    """
    try:
        report = build_lambda_zip(output, bytecode=bytecode)
    except PackageError as error:
        raise fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps(_document(report), indent=2))
        return
    typer.echo(
        f"Built {report.path}: {size_text(report.size)} ({report.size:,} bytes), "
        f"{report.files} files, for Python {LAMBDA_PYTHON} on {LAMBDA_PLATFORM}"
    )
    typer.echo(
        f"  code: {len(report.modules)} modules of domain, application, adapters, entrypoints"
    )
    typer.echo(f"  dependencies: {', '.join(report.dependencies) or 'none'}")
    typer.echo("  provided by the Lambda runtime, not packaged: boto3 and its dependencies")
    typer.echo(f"  {code_form_text(report, asked=bytecode)}")


def code_form_text(report: PackageReport, *, asked: bool = True) -> str:
    """One line: bytecode and by which interpreter, or source and why."""
    if report.bytecode_python is not None:
        return (
            f"bytecode: compiled by {report.bytecode_python} (Python {LAMBDA_PYTHON}, "
            "docstrings and asserts left out)"
        )
    if not asked:
        return "source only (--source): the Lambda compiles it on every cold start"
    return (
        f"source only: no Python {LAMBDA_PYTHON} found here (python{LAMBDA_PYTHON} on the "
        "PATH or under pyenv), so the Lambda compiles it on every cold start"
    )


def size_text(size: int) -> str:
    """``size`` bytes for a person: KiB below one MiB, MiB above."""
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.2f} MiB"


def _document(report: PackageReport) -> dict[str, object]:
    return {
        "path": str(report.path),
        "size": report.size,
        "files": report.files,
        "python": LAMBDA_PYTHON,
        "platform": LAMBDA_PLATFORM,
        "modules": list(report.modules),
        "dependencies": list(report.dependencies),
        "bytecode_python": None if report.bytecode_python is None else str(report.bytecode_python),
    }
