"""Fixtures for the reliability tests: a moto server many threads share (made atomic), and
the Lambda handler wired to AWS adapters on moto with faults on the wire."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
import requests
from aws_wire import LogCapture, Wire, WiredAws
from injector import Injector
from moto import mock_aws
from reliability_aws import EXCEPTIONS_TABLE, RULES_TABLE, WriteLog, new_dynamodb_clients

from adapters.aws import AwsClients, client_config, create_tables
from entrypoints import lambda_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings

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


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch) -> Iterator[WiredAws]:
    """The Lambda handler wired to AWS adapters on in-process moto, with `Wire` on the session.

    Clients make one attempt per call (no botocore retries): a fault fails at once, and the
    test sees exactly the calls ELM made.
    """
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "ELM_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        session = boto3.session.Session()
        create_tables(AwsClients(session).dynamodb(), EXCEPTIONS_TABLE, RULES_TABLE)
        wire = Wire()
        wire.attach(session)
        settings = Settings(exceptions_table=EXCEPTIONS_TABLE, rules_table=RULES_TABLE)
        aws = WiredAws(session, wire, settings)

        def build() -> Injector:
            aws.builds += 1
            clients = AwsClients(session, config=client_config(max_attempts=1))
            return build_container(AwsModule(aws.settings, clients=clients))

        lambda_handler.use_container_factory(build)
        try:
            yield aws
        finally:
            lambda_handler.use_container_factory(None)


@pytest.fixture
def captured_log() -> Iterator[LogCapture]:
    """The handler's log lines (its stream is swapped back after)."""
    handler = lambda_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    capture = LogCapture(io.StringIO())
    previous = handler.setStream(capture.buffer)
    yield capture
    handler.setStream(previous)
