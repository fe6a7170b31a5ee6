"""Both designs wired to DynamoDB in moto (in-process), on the same data."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from adapters.in_memory import FixedClock
from application.handle_change import HandleComplianceChange
from application.ports import ResourceInventory
from benchmarks.counting import install as install_counting
from benchmarks.data import Dataset
from benchmarks.emulation import (
    config_answers,
    create_seed_tables,
    indexed_tables,
    load_records,
    load_rules,
)
from benchmarks.reference import ReferenceHandler

__all__ = [
    "ELM_EXCEPTIONS",
    "ELM_RULES",
    "REF_EXCEPTIONS",
    "REF_RULES",
    "counted_moto",
    "elm_adapters_available",
    "elm_use_case",
    "emulated_aws",
    "load_elm_tables",
    "load_reference_tables",
    "reference_handler",
    "session",
]

ELM_EXCEPTIONS = "Config-ResourceExceptions"
ELM_RULES = "Config-Master"
REF_EXCEPTIONS = "Seed-Config-ResourceExceptions"
REF_RULES = "Seed-Config-Master"
REGION = "us-east-1"

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def elm_adapters_available() -> str | None:
    """None when ELM's DynamoDB adapters are importable, else why not."""
    try:
        from adapters.aws.dynamo_rules import DynamoRuleCatalog  # noqa: F401
        from adapters.aws.dynamo_store import DynamoExceptionStore  # noqa: F401
        from adapters.aws.tables import create_tables  # noqa: F401
    except ImportError as error:
        return f"ELM's DynamoDB adapters are not on this branch yet ({error.name})"
    return None


@contextmanager
def counted_moto() -> Iterator[None]:
    """moto in-process with fake credentials, every client made inside it counted."""
    from moto import mock_aws

    install_counting()  # before any client is made: the counter sees only clients made after it
    saved = {k: os.environ.get(k) for k in _FAKE_CREDENTIALS}
    os.environ.update(_FAKE_CREDENTIALS)
    boto3.DEFAULT_SESSION = None
    try:
        with mock_aws():
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        boto3.DEFAULT_SESSION = None


@contextmanager
def emulated_aws(dataset: Dataset, *, indexed: bool = True) -> Iterator[None]:
    """moto in-process, its tables indexed (unless told not to; see `indexed_tables`), and
    Config answering for ``dataset``."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(counted_moto())
        if indexed:
            stack.enter_context(indexed_tables())
        stack.enter_context(config_answers(dataset))
        yield


def session() -> boto3.session.Session:
    """A fresh session (a fresh Lambda container)."""
    return boto3.session.Session(region_name=REGION)


def load_elm_tables(client: Any, dataset: Dataset) -> None:
    """ELM's tables, made by ELM's own `create_tables`, holding ``dataset``."""
    from adapters.aws.tables import create_tables

    create_tables(client, ELM_EXCEPTIONS, ELM_RULES)
    load_rules(client, ELM_RULES, dataset)
    load_records(client, ELM_EXCEPTIONS, dataset)


def load_reference_tables(client: Any, dataset: Dataset) -> None:
    """The seed's tables (same keys, no index), holding ``dataset``."""
    create_seed_tables(client, REF_EXCEPTIONS, REF_RULES)
    load_rules(client, REF_RULES, dataset)
    load_records(client, REF_EXCEPTIONS, dataset)


def elm_use_case(client: Any, inventory: ResourceInventory) -> HandleComplianceChange:
    """`HandleComplianceChange` on ELM's DynamoDB adapters."""
    from adapters.aws.dynamo_rules import DynamoRuleCatalog
    from adapters.aws.dynamo_store import DynamoExceptionStore

    return HandleComplianceChange(
        DynamoRuleCatalog(client, ELM_RULES),
        DynamoExceptionStore(client, ELM_EXCEPTIONS),
        inventory,
        FixedClock(),
    )


def reference_handler(container: boto3.session.Session) -> ReferenceHandler:
    """The seed design on its own tables."""
    return ReferenceHandler(
        container, exceptions_table=REF_EXCEPTIONS, rules_table=REF_RULES, region=REGION
    )
