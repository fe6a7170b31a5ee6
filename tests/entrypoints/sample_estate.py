"""The in-memory estate the sample events of tests/events are about, and the handler's test
wiring: a counting container factory, a log capture, a fake Lambda context."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from attrs import define, field
from injector import Injector

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.composition.container import InMemoryModule, build_container
from entrypoints.composition.settings import Settings

__all__ = [
    "ACCOUNT",
    "BUCKET_KEY",
    "EVENTS",
    "REGION",
    "SG_KEY",
    "Estate",
    "FakeLambdaContext",
    "LogCapture",
    "Wiring",
    "load_event",
    "sample_estate",
]

EVENTS = Path(__file__).parent.parent / "events"
ACCOUNT = "111122223333"
REGION = "eu-west-1"
SG_ID = "sg-0a1b2c3d4e5f60718"
BUCKET = "elm-audit-logs-eu"
SG_KEY = RecordKey(ACCOUNT, 1, SG_ID)
BUCKET_KEY = RecordKey(ACCOUNT, 2, f"arn:aws:s3:::{BUCKET}")


def load_event(name: str) -> Any:
    """A file of tests/events, decoded."""
    return json.loads((EVENTS / name).read_text())


@define
class Estate:
    """The tables and the Config inventory the sample events are about."""

    rules: InMemoryRuleCatalog = field(factory=InMemoryRuleCatalog)
    store: InMemoryExceptionStore = field(factory=InMemoryExceptionStore)
    inventory: InMemoryInventory = field(factory=InMemoryInventory)
    clock: FixedClock = field(factory=FixedClock)

    def module(self, settings: Settings | None = None) -> InMemoryModule:
        return InMemoryModule(
            settings,
            rules=self.rules,
            store=self.store,
            inventory=self.inventory,
            clock=self.clock,
        )


@define
class FakeLambdaContext:
    """The attributes of the Lambda context the handler's logger reads."""

    function_name: str = "elm-status-update"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:999900001111:function:elm-status-update"
    aws_request_id: str = "3f1e2d4c-5b6a-4789-8a0b-1c2d3e4f5a6b"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty of time: the handler checks it before each record."""
        return 900_000


def sample_estate() -> Estate:
    """Both deletion samples have an open exception and a resource Config reports deleted."""
    estate = Estate()
    estate.rules.add(
        Rule(1, "prod-sg-no-open-ingress", ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE)
    )
    estate.rules.add(
        Rule(2, "prod-s3-bucket-logging", ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE)
    )
    estate.store.add(ExceptionRecord(SG_KEY, REGION))
    estate.store.add(ExceptionRecord(BUCKET_KEY, REGION, status="EXPIRED"))
    estate.inventory.put(ACCOUNT, REGION, "AWS::EC2::SecurityGroup", SG_ID, deleted=True)
    estate.inventory.put(ACCOUNT, REGION, "AWS::S3::Bucket", BUCKET, name=BUCKET, deleted=True)
    return estate


@define
class Wiring:
    """The handler's container factory, counting how often it was called."""

    estate: Estate
    settings: Settings = field(factory=Settings)
    builds: int = 0

    def build(self) -> Injector:
        self.builds += 1
        return build_container(self.estate.module(self.settings))


@define
class LogCapture:
    """The handler's log output, as decoded JSON lines."""

    buffer: io.StringIO

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines() if line.strip()]
