"""How a command stops on a failure: one line on stderr, `elm: ...`, and an exit status."""

from __future__ import annotations

import typer

__all__ = ["BAD_INPUT", "FAILED", "fail"]

BAD_INPUT = 2
"""A file, option or setting has a value ELM cannot use."""
FAILED = 1
"""ELM could not do what was asked (an AWS call failed, a build failed, ...)."""


def fail(message: str, code: int = FAILED) -> typer.Exit:
    """Print ``message`` as one line on stderr; the caller raises the returned `Exit`."""
    typer.echo(f"elm: {message}", err=True)
    return typer.Exit(code)
