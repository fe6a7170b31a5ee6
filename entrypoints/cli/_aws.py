"""What the table commands share: the configured tables, and AWS failures as one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from entrypoints.cli._errors import BAD_INPUT, fail
from entrypoints.composition.settings import Settings, SettingsError
from entrypoints.composition.tables import TABLE_ERRORS, DynamoExceptionStore, DynamoRuleCatalog
from entrypoints.composition.tables import Tables as _Tables

__all__ = ["Tables", "reported", "tables"]


@contextmanager
def reported() -> Iterator[None]:
    """Turn AWS and table-format failures into a one-line message and exit status 1."""
    try:
        yield
    except TABLE_ERRORS as error:
        raise fail(str(error)) from None


class Tables(_Tables):
    """The configured tables; a failure while building them is one line."""

    def store(self) -> DynamoExceptionStore:
        """`Config-ResourceExceptions`."""
        with reported():
            return super().store()

    def catalog(self) -> DynamoRuleCatalog:
        """`Config-Master`."""
        with reported():
            return super().catalog()


def tables() -> Tables:
    """The tables the environment configures; a bad setting exits with status 2."""
    try:
        return Tables(Settings.from_env(os.environ))
    except SettingsError as error:
        raise fail(str(error), BAD_INPUT) from None
