"""Fixtures for the entrypoints' tests: the estate of the sample events (in memory, or on
emulated AWS), and the Lambda handler wired to it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import boto3
import pytest
from emulated_aws import EXCEPTIONS_TABLE, RULES_TABLE, EmulatedAws, WireSpy, seed_tables
from moto import mock_aws
from sample_estate import Estate, FakeLambdaContext, LogCapture, Wiring, sample_estate

from entrypoints import lambda_handler


@pytest.fixture
def estate() -> Estate:
    return sample_estate()


@pytest.fixture
def wiring(estate: Estate) -> Iterator[Wiring]:
    """The Lambda handler wired to the in-memory estate (and back to the environment after)."""
    wiring = Wiring(estate)
    lambda_handler.use_container_factory(wiring.build)
    yield wiring
    lambda_handler.use_container_factory(None)


@pytest.fixture
def captured_log() -> Iterator[LogCapture]:
    """The handler's logger writes into a buffer for the test (its stream is swapped back after)."""
    handler = lambda_handler.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    capture = LogCapture(io.StringIO())
    previous = handler.setStream(capture.buffer)
    yield capture
    handler.setStream(previous)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def emulated_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedAws]:
    """moto with the sample estate's tables; ELM's settings name them."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ELM_EXCEPTIONS_TABLE": EXCEPTIONS_TABLE,
        "ELM_RULES_TABLE": RULES_TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "ELM_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        session = boto3.session.Session()
        spy = WireSpy(session)
        seed_tables(session)
        yield EmulatedAws(session, spy)
