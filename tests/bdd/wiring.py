"""How the BDD steps reach the system: one small protocol, one class per wiring.

Every step goes through a `Wiring`, never through an adapter directly, so that the same
features run on every wiring the ``wiring`` fixture (tests/bdd/conftest.py) is parametrized
with. A wiring builds the system through the composition root
(`entrypoints.container.build_container` plus an adapter module) and delivers each event
through `ProcessBatch`, as the queue would.

To add a wiring (for instance "aws": the DynamoDB adapters on moto, with the in-memory
Config inventory, since moto's Config cannot report deleted resources):
1. write a class implementing `Wiring` below (it may start moto in ``__init__`` and stop it
   in `Wiring.close`);
2. add it to `WIRINGS` under its name, and the name to the fixture's ``params``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from attrs import evolve

from adapters.in_memory import (
    FixedClock,
    InMemoryExceptionStore,
    InMemoryInventory,
    InMemoryRuleCatalog,
)
from application.handle_change import ChangeResult
from application.ports import Message
from application.process_batch import ProcessBatch
from domain.records import ExceptionRecord, RecordKey
from domain.rules import Rule
from entrypoints.container import InMemoryModule, build_container
from entrypoints.settings import Settings

__all__ = ["WIRINGS", "MemoryWiring", "Wiring"]


class Wiring(Protocol):
    """What a feature can do to the system and observe of it.

    Setting up: `add_rule`, `add_exception`, `config_reports`, `config_fails`, `set_policy`.
    Acting: `deliver`. Observing: `record`, `records`, `now`. Ending: `close`.
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

        Keywords are `entrypoints.settings.Settings` fields: ``rule_prefix``,
        ``allowed_accounts`` (a frozenset, or None), ``retention_days``, ``dry_run``.
        """
        ...

    def now(self) -> datetime:
        """The time the system sees (a fixed, timezone-aware time)."""
        ...

    def deliver(self, body: Mapping[str, Any] | str) -> ChangeResult:
        """Deliver one queued message (an event, or a raw body) and return its result."""
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


class MemoryWiring:
    """Every port on its in-memory twin, wired by `InMemoryModule`."""

    def __init__(self) -> None:
        self._rules = InMemoryRuleCatalog()
        self._store = InMemoryExceptionStore()
        self._inventory = InMemoryInventory()
        self._clock = FixedClock()
        self._settings = Settings()
        self._messages = itertools.count(1)

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

    def deliver(self, body: Mapping[str, Any] | str) -> ChangeResult:
        # A container per delivery: settings changed by a step take effect at once, while
        # the twins (the tables and the inventory) persist across deliveries.
        module = InMemoryModule(
            self._settings,
            rules=self._rules,
            store=self._store,
            inventory=self._inventory,
            clock=self._clock,
        )
        process = build_container(module).get(ProcessBatch)
        text = body if isinstance(body, str) else json.dumps(body)
        message = Message(f"message-{next(self._messages)}", text)
        ((_, result),) = process.execute([message]).results
        return result

    def record(self, record_key: RecordKey) -> ExceptionRecord | None:
        return self._store.get(record_key)

    def records(self) -> list[ExceptionRecord]:
        return list(self._store.scan_all())

    def close(self) -> None:
        """Nothing to release."""


WIRINGS: dict[str, Callable[[], Wiring]] = {"memory": MemoryWiring}
"""Every wiring the features run on, by the name the ``wiring`` fixture is parametrized with."""
