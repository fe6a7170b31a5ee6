"""What the table commands share: settings, adapters, and AWS failures as one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog, MalformedItemError
from application.errors import ConflictError, TransientError
from entrypoints.aws_wiring import aws_clients, exception_store, rule_catalog
from entrypoints.cli._errors import BAD_INPUT, fail
from entrypoints.settings import Settings, SettingsError

__all__ = ["Tables", "reported", "tables"]


@contextmanager
def reported() -> Iterator[None]:
    """Turn AWS and table-format failures into a one-line message and exit status 1."""
    try:
        yield
    except (TransientError, ConflictError, MalformedItemError, BotoCoreError) as error:
        raise fail(str(error)) from None


class Tables:
    """The configured tables, built on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: AwsClients | None = None

    def _aws(self) -> AwsClients:
        if self._clients is None:
            self._clients = aws_clients(self.settings)
        return self._clients

    def store(self) -> DynamoExceptionStore:
        """`Config-ResourceExceptions`."""
        with reported():
            return exception_store(self.settings, self._aws())

    def catalog(self) -> DynamoRuleCatalog:
        """`Config-Master` (a command reads it once, so the cache never gets in the way)."""
        with reported():
            return rule_catalog(self.settings, self._aws())


def tables() -> Tables:
    """The tables the environment configures; a bad setting exits with status 2."""
    try:
        return Tables(Settings.from_env(os.environ))
    except SettingsError as error:
        raise fail(str(error), BAD_INPUT) from None
