"""Fixtures for the entrypoints' tests: the in-memory estate of the sample events, and the
Lambda handler wired to it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from attrs import define, field
from injector import Injector
from sample_estate import Estate, FakeLambdaContext, sample_estate

from entrypoints import lambda_handler
from entrypoints.container import build_container
from entrypoints.settings import Settings


@pytest.fixture
def estate() -> Estate:
    return sample_estate()


@define
class Wiring:
    """The handler's container factory, counting how often it was called."""

    estate: Estate
    settings: Settings = field(factory=Settings)
    builds: int = 0

    def build(self) -> Injector:
        self.builds += 1
        return build_container(self.estate.module(self.settings))


@pytest.fixture
def wiring(estate: Estate) -> Iterator[Wiring]:
    """The Lambda handler wired to the in-memory estate (and back to the environment after)."""
    wiring = Wiring(estate)
    lambda_handler.use_container_factory(wiring.build)
    yield wiring
    lambda_handler.use_container_factory(None)


@define
class LogCapture:
    """The handler's log output, as decoded JSON lines."""

    buffer: io.StringIO

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines() if line.strip()]


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
