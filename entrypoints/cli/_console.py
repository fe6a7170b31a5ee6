"""The console every command prints with: a table whose identifiers do not fit is printed
wider than the terminal rather than breaking an ID, an ARN or a rule name."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

__all__ = ["WideConsole"]

_UNBOUNDED = 100_000
_ROOM = 24
"""Characters given to each wrapping column beyond its longest word, when widened."""


class WideConsole(Console):
    """A `Console` that widens itself, for one table, to the table's narrowest width.

    Columns holding identifiers are ``no_wrap``; on a narrow terminal (80 columns when the
    output is piped) rich would cut them with an ellipsis. This console prints such a table
    at the width it needs instead, so every identifier stays whole and can be copied.
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        width = max((_width_for(self, o) for o in objects if isinstance(o, Table)), default=0)
        if width <= self.width:
            super().print(*objects, **kwargs)
            return
        terminal = self.width
        self.width = width
        try:
            super().print(*objects, **kwargs)
        finally:
            self.width = terminal


def _width_for(console: Console, table: Table) -> int:
    """The width ``table`` needs with its identifiers whole and some room for the text
    columns (which wrap), never more than it would take unwrapped."""
    measured = Measurement.get(console, console.options.update_width(_UNBOUNDED), table)
    wrapping = sum(1 for column in table.columns if not column.no_wrap)
    return min(measured.maximum, measured.minimum + _ROOM * wrapping)
