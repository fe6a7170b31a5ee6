"""Fixtures for the entrypoints' tests: the in-memory estate of the sample events, and the
Lambda handler wired to it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
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
