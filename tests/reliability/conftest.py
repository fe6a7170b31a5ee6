"""Fixtures for the reliability tests: a moto server many threads share, made atomic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from reliability_aws import EXCEPTIONS_TABLE, RULES_TABLE, WriteLog, new_dynamodb_clients

from adapters.aws import create_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WORKER_CLIENTS = 8
_SERVER = Path(__file__).with_name("atomic_moto_server.py")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The URL of a moto server with atomic item operations (see atomic_moto_server.py)."""
    server = subprocess.Popen(  # noqa: S603 (our own script, run by this interpreter)
        [sys.executable, str(_SERVER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        assert port.isdigit(), f"the moto server did not start (said {port!r})"
        yield f"http://127.0.0.1:{port}"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def dynamodb_clients(moto_endpoint: str) -> list[DynamoDBClient]:
    """Independent DynamoDB clients on the moto server: the first for setup and checks,
    one each for up to eight workers."""
    return new_dynamodb_clients(moto_endpoint, WORKER_CLIENTS + 1)


@pytest.fixture(scope="session")
def write_log(dynamodb_clients: list[DynamoDBClient]) -> WriteLog:
    """The accepted writes of every client in `dynamodb_clients`."""
    log = WriteLog()
    for client in dynamodb_clients:
        log.attach(client)
    return log


@pytest.fixture
def server_aws(
    moto_endpoint: str, dynamodb_clients: list[DynamoDBClient], write_log: WriteLog
) -> list[DynamoDBClient]:
    """A clean moto server (state reset) with both tables; its clients, as `dynamodb_clients`."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    create_tables(dynamodb_clients[0], EXCEPTIONS_TABLE, RULES_TABLE)
    write_log.clear()
    return dynamodb_clients
