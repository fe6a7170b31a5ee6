"""What the table commands share: the configured tables, and AWS failures as one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from entrypoints.cli._errors import BAD_INPUT, fail
from entrypoints.composition.settings import Settings, SettingsError
from entrypoints.composition.tables import TABLE_ERRORS, DynamoExceptionStore, DynamoRuleCatalog
from entrypoints.composition.tables import Tables as _Tables

__all__ = ["Tables", "reported", "require_region", "tables"]

NO_REGION = (
    "no AWS region: set AWS_DEFAULT_REGION (e.g. export AWS_DEFAULT_REGION=eu-west-1) "
    "or a region in your AWS profile"
)


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


def require_region() -> None:
    """Exit with status 2 and a line naming the setting when boto3 finds no region.

    boto3 reads ``AWS_DEFAULT_REGION`` (or the profile's ``region``); ``AWS_REGION`` alone
    is not enough for every client.
    """
    if not boto3.session.Session().region_name:
        raise fail(NO_REGION, BAD_INPUT)


def tables() -> Tables:
    """The tables the environment configures; a bad setting exits with status 2."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as error:
        raise fail(str(error), BAD_INPUT) from None
    require_region()
    return Tables(settings)
