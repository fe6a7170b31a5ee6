"""The composition root: the one place that chooses adapters, and the one place tests swap them."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from injector import Injector, Module, provider, singleton

from adapters.aws import AwsClients, EventBridgePublisher
from adapters.aws.config_inventory import ConfigServiceInventory
from adapters.system import SystemClock, SystemTimer
from application.announce import PublishEvents
from application.handle_change import HandleComplianceChange
from application.ports import (
    Clock,
    EventPublisher,
    ExceptionStore,
    ResourceInventory,
    RuleCatalog,
    Timer,
)
from application.process_batch import ProcessBatch
from entrypoints.composition.aws_wiring import aws_clients, exception_store, rule_catalog
from entrypoints.composition.settings import Settings

if TYPE_CHECKING:
    from adapters.in_memory import (
        FixedClock,
        InMemoryEventPublisher,
        InMemoryExceptionStore,
        InMemoryInventory,
        InMemoryRuleCatalog,
        ManualTimer,
    )

__all__ = ["AwsModule", "CoreModule", "InMemoryModule", "build_container"]


class CoreModule(Module):
    """The event path's use cases, wired to whatever adapters the other module provides
    (the sweep's is `entrypoints.composition.sweep_wiring.SweepModule`)."""

    @singleton
    @provider
    def handle_change(
        self,
        rules: RuleCatalog,
        store: ExceptionStore,
        inventory: ResourceInventory,
        clock: Clock,
        settings: Settings,
    ) -> HandleComplianceChange:
        return HandleComplianceChange(rules, store, inventory, clock, settings.policy)

    @singleton
    @provider
    def publish_events(
        self, publisher: EventPublisher, clock: Clock, settings: Settings
    ) -> PublishEvents:
        # ELM_EVENTS_BUS empty: publishing is off, whatever publisher is bound.
        return PublishEvents(publisher if settings.events_bus else None, clock)

    @singleton
    @provider
    def process_batch(self, handle: HandleComplianceChange, publish: PublishEvents) -> ProcessBatch:
        return ProcessBatch(handle, publish)


class InMemoryModule(Module):
    """Every port on its in-memory twin: the simulation and the fast tests."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        rules: InMemoryRuleCatalog | None = None,
        store: InMemoryExceptionStore | None = None,
        inventory: InMemoryInventory | None = None,
        clock: FixedClock | None = None,
        timer: ManualTimer | None = None,
        publisher: InMemoryEventPublisher | None = None,
    ) -> None:
        # Imported here: the Lambda loads this module but never the twins.
        from adapters.in_memory import (
            FixedClock,
            InMemoryEventPublisher,
            InMemoryExceptionStore,
            InMemoryInventory,
            InMemoryRuleCatalog,
            ManualTimer,
        )

        self._settings = settings or Settings()
        self._rules = rules or InMemoryRuleCatalog()
        self._store = store or InMemoryExceptionStore()
        self._inventory = inventory or InMemoryInventory()
        self._clock = clock or FixedClock()
        # Simulated time: the sweep's pacing costs nothing in a simulation or a test.
        self._timer = timer or ManualTimer()
        self._publisher = publisher or InMemoryEventPublisher()

    @provider
    def settings(self) -> Settings:
        return self._settings

    @provider
    def rules(self) -> RuleCatalog:
        return self._rules

    @provider
    def store(self) -> ExceptionStore:
        return self._store

    @provider
    def inventory(self) -> ResourceInventory:
        return self._inventory

    @provider
    def clock(self) -> Clock:
        return self._clock

    @provider
    def timer(self) -> Timer:
        return self._timer

    @provider
    def publisher(self) -> EventPublisher:
        return self._publisher


class AwsModule(Module):
    """The ports on AWS: DynamoDB tables named by the settings, AWS Config in the target
    accounts through ``ELM_CONFIG_ROLE_NAME``, the system clock. Each adapter is made once per
    container, and its clients lazily, on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        clients: AwsClients | None = None,
        session_name: str | None = None,
    ) -> None:
        self._settings = settings
        self._clients = clients or aws_clients(settings)
        self._session_name = session_name or cli_session_name()

    @provider
    def settings(self) -> Settings:
        return self._settings

    @provider
    def clients(self) -> AwsClients:
        return self._clients

    @singleton
    @provider
    def rules(self) -> RuleCatalog:
        return rule_catalog(self._settings, self._clients)

    @singleton
    @provider
    def store(self) -> ExceptionStore:
        return exception_store(self._settings, self._clients)

    @provider
    def clock(self) -> Clock:
        return SystemClock()

    @provider
    def timer(self) -> Timer:
        return SystemTimer()

    @singleton
    @provider
    def publisher(self) -> EventPublisher:
        return EventBridgePublisher(self._clients.events, self._settings.events_bus)

    @singleton
    @provider
    def inventory(self, clock: Clock) -> ResourceInventory:
        return ConfigServiceInventory(
            self._clients,
            self._settings.config_role_name,
            clock=clock,
            session_name=self._session_name,
        )


PROCESSOR_SESSION_NAME = "elm-processor"
SWEEP_SESSION_NAME = "elm-sweep"


def cli_session_name() -> str:
    """``elm-cli-<user>`` (or ``-<pid>`` when the user has no usable name), for CloudTrail."""
    user = re.sub(r"[^\w+=,.@-]", "", os.environ.get("USER") or os.environ.get("USERNAME") or "")
    return f"elm-cli-{user or os.getpid()}"[:64]


def build_container(*modules: Module, sweep: bool = True) -> Injector:
    """An injector with the use cases and the given adapter module(s).

    ``sweep=False`` leaves out `Reconcile`, and so never imports the sweep: the event
    Lambda's container, whose cold start would otherwise pay for classes it never uses.
    """
    core: list[Module] = [CoreModule()]
    if sweep:
        from entrypoints.composition.sweep_wiring import SweepModule

        core.append(SweepModule())
    return Injector([*core, *modules])
