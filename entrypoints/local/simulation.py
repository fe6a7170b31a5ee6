"""Run a scenario through the real decision flow, every port on its in-memory twin.

The adapters are wired by the composition root exactly as the tests wire them; only the
scenario's contents differ. Events arrive one at a time, one minute apart, so that a short-form
deletion can change the simulated AWS Config inventory just before its event is handled.
A scenario's ``sweep`` runs the reconciliation sweep a minute after the last event. ELM's own
events go to an in-memory bus, and the report lists them.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from attrs import frozen

from adapters.in_memory import (
    FixedClock,
    InMemoryEventPublisher,
    InMemoryExceptionStore,
    InMemoryRuleCatalog,
)
from application.handle_change import ChangeResult
from application.ports import ElmEvent, Message
from application.process_batch import ProcessBatch
from application.reconcile import SweepOutcome, SweepReport
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey
from entrypoints.composition.container import InMemoryModule, build_container
from entrypoints.composition.sweep_run_wiring import RunWiring, in_process
from entrypoints.local.scenario import Scenario, ScenarioEvent
from entrypoints.local.scenario.inventory import ScenarioInventory

__all__ = ["EVENT_SPACING", "EventRun", "SimulationReport", "simulate"]

EVENT_SPACING = timedelta(minutes=1)
"""The simulated time between two events."""


@frozen
class EventRun:
    """One scenario event and what ELM made of it."""

    number: int
    event: ScenarioEvent
    message_id: str
    result: ChangeResult
    batch_failed: bool

    @property
    def meets_expectation(self) -> bool:
        """True when the event declares no expected outcome, or got the one it declares."""
        return self.event.expect is None or self.event.expect is self.result.outcome


@frozen
class SimulationReport:
    """Every event's result, the sweep's report, and the exception table before and after."""

    scenario: Scenario
    runs: tuple[EventRun, ...]
    before: tuple[ExceptionRecord, ...]
    after: tuple[ExceptionRecord, ...]
    config_calls: int
    sweep: SweepReport | None = None
    published: tuple[ElmEvent, ...] = ()
    """ELM's own events, in the order ELM put them on its (simulated) bus."""

    @property
    def failed_message_ids(self) -> list[str]:
        """What the handler would report in `batchItemFailures` (SQS retries them)."""
        return [r.message_id for r in self.runs if r.batch_failed]

    @property
    def unmet(self) -> list[EventRun]:
        """Events whose outcome differs from their `expect`."""
        return [r for r in self.runs if not r.meets_expectation]

    @property
    def counts(self) -> dict[Outcome, int]:
        """How many events ended in each outcome, in the order of `Outcome`."""
        counted = Counter(r.result.outcome for r in self.runs)
        return {o: counted[o] for o in Outcome if counted[o]}

    @property
    def sweep_unmet(self) -> str | None:
        """How the sweep's counts differ from the scenario's ``sweep.expect``, or None."""
        step = self.scenario.sweep
        if step is None or step.expect is None or self.sweep is None:
            return None
        expected = dict(step.expect)
        got = {o: self.sweep.count(o) for o in SweepOutcome if self.sweep.count(o)}
        if {o: n for o, n in expected.items() if n} == got:
            return None
        shown = ", ".join(f"{o.value} {n}" for o, n in got.items()) or "nothing"
        wanted = ", ".join(f"{o.value} {n}" for o, n in step.expect) or "nothing"
        return f"sweep expected {wanted}, got {shown}"

    def changed(self, record: ExceptionRecord) -> bool:
        """True when the simulation changed ``record``."""
        return _by_key(self.before).get(record.record_key) != record


def simulate(scenario: Scenario) -> SimulationReport:
    """Run every event of ``scenario`` in order and report what happened."""
    rules = InMemoryRuleCatalog()
    for rule in scenario.rules:
        rules.add(rule)
    store = InMemoryExceptionStore()
    for record in scenario.exceptions:
        store.add(record)
    config = ScenarioInventory(scenario)
    inventory = config.inventory
    clock = FixedClock(scenario.start)
    publisher = InMemoryEventPublisher()
    container = build_container(
        InMemoryModule(
            scenario.settings,
            rules=rules,
            store=store,
            inventory=inventory,
            clock=clock,
            publisher=publisher,
        )
    )
    batch = container.get(ProcessBatch)
    before = tuple(store.scan_all())
    runs: list[EventRun] = []
    for number, event in enumerate(scenario.events, start=1):
        if number > 1:
            clock.advance(EVENT_SPACING)
        if event.deletion is not None:
            config.delete(event.deletion)
        message = Message(f"msg-{number}", event.body)
        report = batch.execute([message])
        (_, result) = report.results[0]
        failed = message.message_id in report.failed_message_ids
        runs.append(EventRun(number, event, message.message_id, result, failed))
    event_calls = len(inventory.calls)  # the sweep reports its own
    sweep = None
    if scenario.sweep is not None:
        clock.advance(EVENT_SPACING)
        # As `elm reconcile` does: the distributed run's plan, worked in this process.
        sweep = in_process(container, RunWiring()).execute()
    return SimulationReport(
        scenario=scenario,
        runs=tuple(runs),
        before=before,
        after=tuple(store.scan_all()),
        config_calls=event_calls,
        sweep=sweep,
        published=tuple(publisher.published),
    )


def _by_key(records: tuple[ExceptionRecord, ...]) -> dict[RecordKey, ExceptionRecord]:
    return {r.record_key: r for r in records}
