"""How the BDD steps reach the system: one small protocol, one class per wiring.

Every step goes through a `Wiring`, never through an adapter directly, so that the same
features run on every wiring the ``wiring`` fixture (tests/bdd/conftest.py) is parametrized
with. A wiring builds the system through the composition root
(`entrypoints.composition.container.build_container` plus an adapter module) and delivers each event
through `ProcessBatch`, as the queue would.

Two wirings exist: "memory" (`MemoryWiring`, every port on its twin) and "aws"
(`AwsWiring`, the DynamoDB adapters on moto with the in-memory Config inventory). To add one:
1. write a class implementing `Wiring` below (it may start an emulator in ``__init__`` and
   stop it in `Wiring.close`);
2. add it to `WIRINGS` under its name, and the name to the fixture's ``params``.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import datetime
from typing import Any, Protocol
from unittest import mock

import boto3
from attrs import evolve
from injector import Injector, Module, provider
from moto import mock_aws

from adapters.aws import AwsClients, DynamoExceptionStore, DynamoRuleCatalog, create_tables
from adapters.in_memory import (
    FixedClock,
    InMemoryEventPublisher,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from application.handle_change import ChangeResult
from application.ports import Clock, ExceptionStore, Message, ResourceInventory, RuleCatalog
from application.process_batch import ProcessBatch
from application.reconcile import Reconcile, SweepReport
from domain.records import ExceptionRecord, RecordKey
from domain.rules import Rule
from entrypoints.composition.container import AwsModule, InMemoryModule, build_container
from entrypoints.composition.settings import Settings
from entrypoints.local.subscriber import drain, subscribe

__all__ = ["WIRINGS", "AwsWiring", "MemoryWiring", "Wiring"]


class Wiring(Protocol):
    """What a feature can do to the system and observe of it.

    Setting up: `add_rule`, `add_exception`, `config_reports`, `config_fails`, `set_policy`.
    Acting: `deliver`, `sweep`. Observing: `record`, `records`, `now`, `told`. Ending: `close`.
    """

    def add_rule(self, rule: Rule) -> None:
        """Register a rule in the rules table (`Config-Master`)."""
        ...

    def add_exception(self, record: ExceptionRecord) -> None:
        """Register an exception in the exceptions table (`Config-ResourceExceptions`)."""
        ...

    def config_reports(
        self,
        account_id: str,
        region: str,
        resource_type: str,
        resource_id: str,
        *,
        name: str | None = None,
        deleted: bool = True,
    ) -> None:
        """Make AWS Config report the resource: deleted (the default) or still there.

        A resource never declared is one Config does not report at all.
        """
        ...

    def config_fails(self, reason: str) -> None:
        """Make every later AWS Config lookup fail with a transient error naming ``reason``."""
        ...

    def set_policy(self, **changes: Any) -> None:
        """Change settings for the events delivered from now on.

        Keywords are `entrypoints.composition.settings.Settings` fields: ``rule_prefix``,
        ``allowed_accounts`` (a frozenset, or None), ``retention_days``, ``dry_run``.
        """
        ...

    def now(self) -> datetime:
        """The time the system sees (a fixed, timezone-aware time)."""
        ...

    def deliver(self, body: Mapping[str, Any] | str) -> ChangeResult:
        """Deliver one queued message (an event, or a raw body) and return its result."""
        ...

    def sweep(self) -> SweepReport:
        """Run the reconciliation sweep once over the whole table."""
        ...

    def told(self) -> list[dict[str, Any]]:
        """ELM's own events published since the last call, as a subscriber receives them:
        ``source``, ``detail-type`` and ``detail``."""
        ...

    def record(self, record_key: RecordKey) -> ExceptionRecord | None:
        """One exception as the table holds it now, or None."""
        ...

    def records(self) -> list[ExceptionRecord]:
        """Every exception the table holds, in a stable order."""
        ...

    def close(self) -> None:
        """Release what the wiring started (emulators, threads)."""
        ...


class _SharedSteps:
    """What every wiring does alike: the tables and the inventory it holds, and delivery.

    A subclass sets the attributes below and delivers through `_process`.
    """

    _rules: RuleCatalog
    _store: ExceptionStore
    _inventory: InMemoryInventory
    _clock: FixedClock
    _settings: Settings
    _messages: itertools.count[int]

    def add_rule(self, rule: Rule) -> None:
        self._rules.add(rule)

    def add_exception(self, record: ExceptionRecord) -> None:
        self._store.add(record)

    def config_reports(
        self,
        account_id: str,
        region: str,
        resource_type: str,
        resource_id: str,
        *,
        name: str | None = None,
        deleted: bool = True,
    ) -> None:
        self._inventory.put(
            account_id, region, resource_type, resource_id, name=name, deleted=deleted
        )

    def config_fails(self, reason: str) -> None:
        self._inventory.failure = reason

    def set_policy(self, **changes: Any) -> None:
        self._settings = evolve(self._settings, **changes)

    def now(self) -> datetime:
        return self._clock.now()

    def record(self, record_key: RecordKey) -> ExceptionRecord | None:
        return self._store.get(record_key)

    def _sweep(self, container: Injector) -> SweepReport:
        return container.get(Reconcile).execute()

    def _process(self, container: Injector, body: Mapping[str, Any] | str) -> ChangeResult:
        """Deliver ``body`` as one queued message through the container's `ProcessBatch`."""
        text = body if isinstance(body, str) else json.dumps(body)
        message = Message(f"message-{next(self._messages)}", text)
        ((_, result),) = container.get(ProcessBatch).execute([message]).results
        return result


class MemoryWiring(_SharedSteps):
    """Every port on its in-memory twin, wired by `InMemoryModule`."""

    _rules: InMemoryRuleCatalog
    _store: InMemoryExceptionStore

    def __init__(self) -> None:
        self._rules = InMemoryRuleCatalog()
        self._store = InMemoryExceptionStore()
        self._inventory = InMemoryInventory()
        self._clock = FixedClock()
        self._settings = Settings()
        self._messages = itertools.count(1)
        self._publisher = InMemoryEventPublisher()
        self._told = 0

    def _container(self) -> Injector:
        # A container per delivery: settings changed by a step take effect at once, while
        # the twins (the tables, the inventory, the bus) persist across deliveries.
        module = InMemoryModule(
            self._settings,
            rules=self._rules,
            store=self._store,
            inventory=self._inventory,
            clock=self._clock,
            publisher=self._publisher,
        )
        return build_container(module)

    def deliver(self, body: Mapping[str, Any] | str) -> ChangeResult:
        return self._process(self._container(), body)

    def sweep(self) -> SweepReport:
        return self._sweep(self._container())

    def told(self) -> list[dict[str, Any]]:
        new = self._publisher.published[self._told :]
        self._told = len(self._publisher.published)
        # As a subscriber gets them: the detail through JSON, as the bus carries it.
        return [
            {
                "source": "elm",
                "detail-type": e.kind.value,
                "detail": json.loads(json.dumps(e.detail)),
            }
            for e in new
        ]

    def records(self) -> list[ExceptionRecord]:
        return list(self._store.scan_all())

    def close(self) -> None:
        """Nothing to release."""


# Fake credentials and a fixed region: nothing the wiring does can reach a real account, and
# a developer's profile or endpoint cannot redirect it.
_FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


@functools.cache
def _fake_clients() -> AwsClients:
    """One client factory, on fake credentials, for every `AwsWiring` of the run.

    Building a boto3 client (its session loading the endpoint and service models) costs
    more than a whole scenario on moto; the client itself holds no state of its own, and
    moto, imported above, intercepts it whenever a `mock_aws` is active.
    """
    session = boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name="us-east-1",
    )
    return AwsClients(session)


class _TwinsModule(Module):
    """Overrides `AwsModule` for the inventory and the clock; listed after it, so it wins.

    Whether or not `AwsModule` provides a `ResourceInventory` itself, the binding here is
    the one the container uses.
    """

    def __init__(self, inventory: InMemoryInventory, clock: FixedClock) -> None:
        self._inventory = inventory
        self._clock = clock

    @provider
    def inventory(self) -> ResourceInventory:
        return self._inventory

    @provider
    def clock(self) -> Clock:
        return self._clock


class AwsWiring(_SharedSteps):
    """The DynamoDB store and rule catalog on moto, wired by `AwsModule`.

    The two tables live in an in-process `mock_aws`, started here and stopped by `close`;
    the use case, the `DynamoExceptionStore` and the `DynamoRuleCatalog` are the ones the
    composition root builds for Lambda. Only the Config inventory and the clock are
    replaced (`_TwinsModule`): the inventory by `InMemoryInventory`, because moto's AWS
    Config ignores ``includeDeletedResources`` and never reports ``resourceDeletionTime``
    (a deleted resource just vanishes), so it cannot say "deleted"; the clock by a
    `FixedClock`, so the features can check timestamps and TTLs exactly. ELM's own events go
    to moto's default bus, where a rule forwards them to a queue that `told` drains.
    """

    def __init__(self) -> None:
        with ExitStack() as stack:
            stack.enter_context(mock.patch.dict(os.environ, _FAKE_ENVIRONMENT))
            for name in _UNSET:
                os.environ.pop(name, None)
            stack.enter_context(mock_aws())
            self._settings = Settings()
            self._clients = _fake_clients()
            dynamodb = self._clients.dynamodb()
            create_tables(dynamodb, self._settings.exceptions_table, self._settings.rules_table)
            self._store = DynamoExceptionStore(dynamodb, self._settings.exceptions_table)
            self._rules = DynamoRuleCatalog(dynamodb, self._settings.rules_table)
            self._sqs, self._subscriber = _subscribe(self._clients)
            # Everything started; `close` stops it (moto first, then the environment).
            self._started = stack.pop_all()
        self._inventory = InMemoryInventory()
        self._clock = FixedClock()
        self._messages = itertools.count(1)

    def deliver(self, body: Mapping[str, Any] | str) -> ChangeResult:
        # A container per delivery, as in `MemoryWiring`: settings changed by a step take
        # effect at once, and each container's rule catalog starts with an empty cache, so
        # a rule added between deliveries is seen by the next one.
        return self._process(self.container(), body)

    def sweep(self) -> SweepReport:
        return self._sweep(self.container())

    def told(self) -> list[dict[str, Any]]:
        return drain(self._sqs, self._subscriber)

    def container(self) -> Injector:
        """The composition root as the next delivery gets it: `AwsModule`, then the twins."""
        return build_container(
            AwsModule(self._settings, clients=self._clients),
            _TwinsModule(self._inventory, self._clock),
        )

    def records(self) -> list[ExceptionRecord]:
        # A Scan's order is the table's, not the insertion order: sort for a stable one.
        return sorted(
            self._store.scan_all(),
            key=lambda r: (r.account_id, r.rule_id, r.key),
        )

    def close(self) -> None:
        """Stop moto and restore the environment; a second call does nothing."""
        self._started.close()


@functools.cache
def _subscriber_clients() -> tuple[Any, Any]:
    """SQS and EventBridge clients for the subscriber, made once (see `_fake_clients`)."""
    session = _fake_clients().session
    return session.client("sqs"), session.client("events")


def _subscribe(clients: AwsClients) -> tuple[Any, str]:
    """A queue receiving every event of source ``elm`` on the default bus: its client and URL."""
    sqs, events = _subscriber_clients()
    return sqs, subscribe(events, sqs, "default", "elm-events-subscriber")


WIRINGS: dict[str, Callable[[], Wiring]] = {"memory": MemoryWiring, "aws": AwsWiring}
"""Every wiring the features run on, by the name the ``wiring`` fixture is parametrized with."""
