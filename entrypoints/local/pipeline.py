"""`elm local`: the production flow (docs/behaviour.md) on a local AWS, through the real
Lambda handler.

A moto server runs in this process. The three templates are deployed on it (the send-events
one into every target account and region through a StackSet), the tables are seeded from a
scenario file, and each deletion's AWS Config event is put on the target account's default
bus. EventBridge (moto) routes the deletion events to the production queue; the queue is
drained in batches of up to ten into `entrypoints.lambda_handler.handler`, as the event
source mapping would (moto cannot run the Lambda: it has no Docker here), and acknowledged
messages are deleted. Then the reconciliation sweep runs through its deployed handlers: the
planner once, then the workers on the stack's sweep queue (`entrypoints.local.sweep_drain`).

Two things are not AWS's own behaviour, and the report says so:
- AWS Config's inventory is simulated (the in-memory twin behind the inventory port): moto's
  Config cannot report deleted resources.
- moto delivers forwarded events with the envelope ``region`` of the production bus and no
  ``account``; EventBridge keeps the sender's. The envelope is restored to the sending
  account and region before the handler sees the message.

Events go out in waves: a wave ends before a second event for the same account, region and
rule, so that each event is handled against AWS Config as it was when its resource was
deleted (a composite's second member, deleted later, is not yet gone for the first).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from attrs import frozen
from injector import Injector, Module, provider, singleton

from adapters.aws import AwsClients
from adapters.in_memory import InMemoryInventory
from application.ports import ExceptionStore, ResourceInventory, RuleCatalog
from application.reconcile import SweepOutcome, SweepReport
from domain.events import is_account_id, is_region_name
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey
from entrypoints import lambda_handler
from entrypoints.composition.container import AwsModule, build_container
from entrypoints.composition.settings import Settings, SettingsError
from entrypoints.composition.sweep_run_wiring import RunWiring, run_parts
from entrypoints.local.lambda_context import lambda_context
from entrypoints.local.lambda_zip import code_zip
from entrypoints.local.moto_aws import (
    PRODUCTION_ACCOUNT,
    PRODUCTION_REGION,
    LocalAws,
    ProductionStack,
    local_aws,
)
from entrypoints.local.scenario import Scenario, ScenarioEvent
from entrypoints.local.scenario.inventory import ScenarioInventory
from entrypoints.local.subscriber import drain as drain_queue
from entrypoints.local.subscriber import subscribe
from entrypoints.local.sweep_drain import SweepDrainError, run_sweep

__all__ = [
    "FILTERED",
    "DeliveredEvent",
    "LocalPipelineError",
    "LocalReport",
    "OutgoingEvent",
    "PipelineProgress",
    "SimulatedConfigModule",
    "SkippedEvent",
    "run_local_pipeline",
    "waves",
]

FILTERED = "filtered"
"""The outcome of an event the target account's EventBridge rule did not forward."""
BATCH_SIZE = 10
"""Records per handler invocation: the template's event source mapping `BatchSize`."""

_WaveKey = tuple[str, str, str]
# A configuration item change names no rule: its events share one key per account and region.
_ITEM_WAVE = "(configuration item)"


class LocalPipelineError(Exception):
    """`elm local` cannot run; the message is one line saying why."""


class PipelineProgress(Protocol):
    """Told when a stage starts (and how many steps it has), and as its steps are done."""

    def stage(self, description: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class _NoProgress:
    def stage(self, description: str, total: int) -> None:
        return None

    def advance(self, count: int = 1) -> None:
        return None


@frozen
class OutgoingEvent:
    """A scenario event as it is put on a target account's bus."""

    number: int
    event: ScenarioEvent
    account_id: str
    region: str
    rule_name: str
    resource_type: str
    resource_id: str
    source: str
    detail_type: str
    detail: str

    @property
    def wave_key(self) -> _WaveKey:
        """Events with the same key can touch the same exceptions: never in one wave."""
        return (self.account_id, self.region, self.rule_name or _ITEM_WAVE)


@frozen
class DeliveredEvent:
    """One scenario event: where it was put, and what the handler logged for it."""

    number: int
    event: ScenarioEvent
    wave: int
    account_id: str
    region: str
    rule_name: str
    resource_type: str
    resource_id: str
    message_id: str | None
    """The SQS message it arrived as; None when EventBridge did not forward it."""
    log: Mapping[str, Any] | None
    """The handler's log line for it (docs/behaviour.md: one structured line per outcome)."""
    batch_failed: bool

    @property
    def outcome(self) -> str:
        """The outcome the handler logged, or `FILTERED`."""
        if self.log is None:
            return FILTERED
        return str(self.log["outcome"])

    @property
    def meets_expectation(self) -> bool:
        """True when the event declares no expected outcome, or got the one it declares.

        `FILTERED` meets `ignored`: the rule applies the test the handler would apply.
        """
        expect = self.event.expect
        if expect is None or expect.value == self.outcome:
            return True
        return expect is Outcome.IGNORED and self.outcome == FILTERED


@frozen
class SkippedEvent:
    """A scenario event a real EventBridge bus cannot deliver, so `elm local` does not send it."""

    number: int
    event: ScenarioEvent
    reason: str

    @property
    def label(self) -> str:
        """The event as the scenario names it."""
        return self.event.label


@frozen
class LocalReport:
    """What `elm local` deployed, sent and changed."""

    scenario: Scenario
    endpoint: str
    target_accounts: tuple[str, ...]
    target_regions: tuple[str, ...]
    settings: Settings
    events: tuple[DeliveredEvent, ...]
    batches: tuple[int, ...]
    """The size of each batch handed to the handler, in order."""
    metrics: Mapping[str, int]
    """The CloudWatch metrics the handler emitted (embedded metric format), summed by name."""
    before: tuple[ExceptionRecord, ...]
    after_events: tuple[ExceptionRecord, ...]
    after: tuple[ExceptionRecord, ...]
    sweep: SweepReport | None
    left_on_queue: int
    """Failed records, left for SQS to deliver again (and then move to the DLQ)."""
    published: tuple[Mapping[str, Any], ...] = ()
    """ELM's own events as a queue subscribed to them on the production bus received them."""
    skipped: tuple[SkippedEvent, ...] = ()
    """Events not sent: a real bus cannot deliver them as the scenario writes them."""

    @property
    def counts(self) -> dict[str, int]:
        """How many events ended in each outcome."""
        return dict(Counter(e.outcome for e in self.events))

    @property
    def unmet(self) -> list[DeliveredEvent]:
        """Events whose outcome differs from their `expect`."""
        return [e for e in self.events if not e.meets_expectation]

    @property
    def unmet_sweep(self) -> list[tuple[SweepOutcome, int, int]]:
        """(outcome, expected, got) for each sweep count that differs from the scenario's."""
        step = self.scenario.sweep
        if self.sweep is None or step is None or step.expect is None:
            return []
        return [
            (outcome, expected, self.sweep.count(outcome))
            for outcome, expected in step.expect
            if self.sweep.count(outcome) != expected
        ]

    @property
    def recovered(self) -> list[RecordKey]:
        """Records the sweep closed or advanced: deletions whose event never arrived."""
        if self.sweep is None:
            return []
        return [
            note.record_key
            for note in self.sweep.changes
            if note.outcome in (SweepOutcome.CLOSED, SweepOutcome.MEMBER_DELETED)
        ]


class SimulatedConfigModule(Module):
    """AWS Config's inventory on its in-memory twin (overrides the AWS module's)."""

    def __init__(self, inventory: InMemoryInventory) -> None:
        self._inventory = inventory

    @singleton
    @provider
    def inventory(self) -> ResourceInventory:
        return self._inventory


def run_local_pipeline(
    scenario: Scenario,
    progress: PipelineProgress | None = None,
    *,
    serve: Callable[[LocalReport], None] | None = None,
    port: int = 0,
) -> LocalReport:
    """Run ``scenario`` through the production flow on a local AWS; see the module docstring.

    With ``serve``, the report is handed to it while the local AWS (on ``port``, 0 for a free
    one) still runs, stacks deployed and tables as the run left them; the server stops when
    ``serve`` returns.

    Raises `LocalPipelineError` when the scenario cannot be sent through EventBridge or the
    local AWS cannot be set up. The moto server is stopped before this returns.
    """
    progress = progress or _NoProgress()
    outgoing, skipped = _reproducible(_outgoing(scenario))
    accounts = tuple(sorted({o.account_id for o in outgoing}))
    regions = tuple(dict.fromkeys(o.region for o in outgoing))
    with local_aws(port) as aws:
        progress.stage("Deploying the three stacks", 3)
        stack = _deploy(aws, scenario, accounts, regions, progress)
        settings = _settings(stack)
        subscriber = (
            subscribe(
                aws.client("events"), aws.client("sqs"), settings.events_bus, SUBSCRIBER_QUEUE
            )
            if settings.events_bus
            else None
        )
        config = ScenarioInventory(scenario)
        clients = AwsClients(aws.session, region_name=PRODUCTION_REGION, endpoint_url=aws.endpoint)
        container = build_container(
            AwsModule(settings, clients=clients), SimulatedConfigModule(config.inventory)
        )
        store = container.get(ExceptionStore)  # type: ignore[type-abstract]
        catalog = container.get(RuleCatalog)  # type: ignore[type-abstract]
        progress.stage("Seeding the tables", 1)
        for rule in scenario.rules:
            catalog.add(rule)
        for record in scenario.exceptions:
            store.add(record)
        progress.advance()
        before = _records(store)
        lambda_handler.use_container_factory(lambda: container)
        try:
            drain = _Drain(aws, stack, progress)
            delivered: list[DeliveredEvent] = []
            plan = waves(outgoing)
            progress.stage(f"Events to buses, queue, handler ({len(plan)} waves)", len(outgoing))
            for number, wave in enumerate(plan, start=1):
                for item in wave:
                    if item.event.deletion is not None:
                        config.delete(item.event.deletion)
                    _put(aws, item)
                delivered.extend(drain.wave(number, wave))
            after_events = _records(store)
            sweep: SweepReport | None = None
            if scenario.sweep is not None:
                sweep = _sweep(aws, stack, clients, config, container, progress)
            after = _records(store)
            published = tuple(drain_queue(aws.client("sqs"), subscriber)) if subscriber else ()
        finally:
            lambda_handler.use_container_factory(None)
        report = LocalReport(
            scenario=scenario,
            endpoint=aws.endpoint,
            target_accounts=accounts,
            target_regions=regions,
            settings=settings,
            events=tuple(delivered),
            batches=tuple(drain.batches),
            metrics=dict(drain.metrics),
            before=before,
            after_events=after_events,
            after=after,
            sweep=sweep,
            left_on_queue=drain.left_on_queue,
            published=published,
            skipped=tuple(skipped),
        )
        if serve is not None:
            serve(report)
        return report


def waves(outgoing: Sequence[OutgoingEvent]) -> list[list[OutgoingEvent]]:
    """Consecutive events, cut before a second one for the same account, region and rule."""
    result: list[list[OutgoingEvent]] = []
    keys: set[_WaveKey] = set()
    for item in outgoing:
        if not result or item.wave_key in keys:
            result.append([])
            keys = set()
        result[-1].append(item)
        keys.add(item.wave_key)
    return result


def _reproducible(
    outgoing: Sequence[OutgoingEvent],
) -> tuple[list[OutgoingEvent], list[SkippedEvent]]:
    """The events a bus can deliver as written, and the others with the reason.

    EventBridge sets an event's envelope ``account`` and ``region`` to the bus that sends it
    (PutEvents takes no account), so an envelope naming another account or region than
    ``detail`` (a forged event, which the handler rejects) cannot be produced on a bus.
    """
    kept: list[OutgoingEvent] = []
    skipped: list[SkippedEvent] = []
    for item in outgoing:
        envelope = json.loads(item.event.body)
        reasons = [
            f"its envelope {name} {envelope[name]} differs from detail's {own}"
            for name, own in (("account", item.account_id), ("region", item.region))
            if isinstance(envelope.get(name), str) and envelope[name] != own
        ]
        if reasons:
            why = "; ".join(reasons)
            skipped.append(
                SkippedEvent(
                    item.number,
                    item.event,
                    f"{why}: EventBridge sets the envelope to the sending bus's account "
                    "and region, so a real bus cannot deliver it (`elm simulate` runs it)",
                )
            )
        else:
            kept.append(item)
    return kept, skipped


def _outgoing(scenario: Scenario) -> list[OutgoingEvent]:
    """The scenario's events as PutEvents entries; one line naming a bad one."""
    items = []
    for number, event in enumerate(scenario.events, start=1):
        where = f"{scenario.source}: {event.label}"
        try:
            document = json.loads(event.body)
        except ValueError:
            raise LocalPipelineError(
                f"{where} is not JSON: elm local sends each event through EventBridge"
            ) from None
        if not isinstance(document, dict):
            raise LocalPipelineError(f"{where} must be a JSON event object")
        detail = document.get("detail")
        source, detail_type = document.get("source"), document.get("detail-type")
        if not isinstance(detail, dict) or not isinstance(source, str):
            raise LocalPipelineError(f"{where} needs source and detail to be put on a bus")
        if not isinstance(detail_type, str):
            raise LocalPipelineError(f"{where} needs a detail-type to be put on a bus")
        fields = _identity_fields(detail)
        account, region = fields.get("awsAccountId"), fields.get("awsRegion")
        if not isinstance(account, str) or not is_account_id(account):
            raise LocalPipelineError(
                f"{where}: detail.awsAccountId must be the 12-digit account that sends it"
            )
        if not isinstance(region, str) or not is_region_name(region):
            raise LocalPipelineError(f"{where}: detail.awsRegion must be a region name")
        rule = detail.get("configRuleName")
        resource_type, resource_id = fields.get("resourceType"), fields.get("resourceId")
        items.append(
            OutgoingEvent(
                number=number,
                event=event,
                account_id=account,
                region=region,
                rule_name=rule if isinstance(rule, str) else "",
                resource_type=resource_type if isinstance(resource_type, str) else "",
                resource_id=resource_id if isinstance(resource_id, str) else "",
                source=source,
                detail_type=detail_type,
                detail=json.dumps(detail),
            )
        )
    return items


def _deploy(
    aws: LocalAws,
    scenario: Scenario,
    accounts: Sequence[str],
    regions: Sequence[str],
    progress: PipelineProgress,
) -> ProductionStack:
    settings = scenario.settings
    aws.deploy_tables()
    progress.advance()
    stack = aws.deploy_production(
        code_zip(),
        AllowedAccounts=",".join(sorted(settings.allowed_accounts or ())),
        RetentionDays=str(settings.retention_days),
        DryRun="true" if settings.dry_run else "false",
    )
    progress.advance()
    # The production account is a target too: the StackSet deploys there as everywhere.
    aws.deploy_send_events(sorted({*accounts, PRODUCTION_ACCOUNT}), regions)
    progress.advance()
    return stack


SUBSCRIBER_QUEUE = "elm-local-subscriber"
"""The queue `elm local` subscribes to ELM's own events, as another team's system would."""


def _settings(stack: ProductionStack) -> Settings:
    """The settings the template gives the processor Lambda: the handler runs with those."""
    try:
        return Settings.from_env(stack.environment)
    except SettingsError as error:
        raise LocalPipelineError(f"the processor's environment is not valid: {error}") from None


def _put(aws: LocalAws, item: OutgoingEvent) -> None:
    events = aws.account_client(item.account_id, "events", item.region)
    response = events.put_events(
        Entries=[{"Source": item.source, "DetailType": item.detail_type, "Detail": item.detail}]
    )
    if response.get("FailedEntryCount"):
        raise LocalPipelineError(
            f"{item.event.label}: PutEvents refused it in {item.account_id} {item.region}: "
            f"{response['Entries'][0].get('ErrorMessage', 'no reason given')}"
        )


def _records(store: ExceptionStore) -> tuple[ExceptionRecord, ...]:
    return tuple(sorted(store.scan_all(), key=lambda r: (r.record_key.partition_key, r.key)))


def _sweep(
    aws: LocalAws,
    stack: ProductionStack,
    clients: AwsClients,
    config: ScenarioInventory,
    container: Injector,
    progress: PipelineProgress,
) -> SweepReport:
    """The sweep through its handlers, the workers with the settings the template gives them."""
    try:
        settings = Settings.from_env(stack.sweep_environment)
        wiring = RunWiring.from_env(stack.sweep_environment)
    except SettingsError as error:
        raise LocalPipelineError(f"the sweep workers' environment is not valid: {error}") from None
    workers = build_container(
        AwsModule(settings, clients=clients), SimulatedConfigModule(config.inventory)
    )
    try:
        return run_sweep(
            aws,
            stack,
            run_parts(workers, wiring),
            container.get(ExceptionStore),  # type: ignore[type-abstract]
            container.get(RuleCatalog),  # type: ignore[type-abstract]
            progress,
        )
    except SweepDrainError as error:
        raise LocalPipelineError(str(error)) from None


class _Drain:
    """The event source mapping's part: the queue, in batches, into the handler."""

    def __init__(self, aws: LocalAws, stack: ProductionStack, progress: PipelineProgress) -> None:
        self._sqs = aws.client("sqs")
        self._stack = stack
        self._progress = progress
        self._function = stack.outputs["ProcessorFunctionName"]
        self.batches: list[int] = []
        self.metrics: Counter[str] = Counter()
        self.left_on_queue = 0

    def wave(self, number: int, sent: Sequence[OutgoingEvent]) -> list[DeliveredEvent]:
        """Receive and handle everything the wave ``sent`` put on the queue."""
        pending = {item.wave_key: item for item in sent}
        arrived: dict[_WaveKey, tuple[str, Mapping[str, Any] | None, bool]] = {}
        while messages := self._sqs.receive_message(
            QueueUrl=self._stack.queue_url, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=0
        ).get("Messages", []):
            senders = [_sender(pending, message["Body"]) for message in messages]
            records = [self._record(m, s) for m, s in zip(messages, senders, strict=True)]
            logs, failures = self._invoke(records)
            self.batches.append(len(records))
            for message, item in zip(messages, senders, strict=True):
                message_id = message["MessageId"]
                failed = message_id in failures
                arrived[item.wave_key] = (message_id, logs.get(message_id), failed)
                if failed:
                    # Left for SQS to deliver again after the visibility timeout, then the DLQ.
                    self.left_on_queue += 1
                else:
                    self._sqs.delete_message(
                        QueueUrl=self._stack.queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                self._progress.advance()
        delivered = []
        for item in sent:
            message_id, log, failed = arrived.get(item.wave_key, (None, None, False))
            if message_id is None:
                self._progress.advance()  # filtered: it never reaches the queue
            delivered.append(
                DeliveredEvent(
                    number=item.number,
                    event=item.event,
                    wave=number,
                    account_id=item.account_id,
                    region=item.region,
                    # A configuration item names no rule: show the rules the handler found.
                    rule_name=item.rule_name or str((log or {}).get("rule") or ""),
                    resource_type=item.resource_type,
                    resource_id=item.resource_id,
                    message_id=message_id,
                    log=log,
                    batch_failed=failed,
                )
            )
        return delivered

    def _record(self, message: Mapping[str, Any], sender: OutgoingEvent) -> dict[str, Any]:
        body = json.loads(message["Body"])
        # EventBridge keeps the sender's account and region on a forwarded event; moto
        # rewrites the region to the production bus's and drops the account.
        body["account"] = sender.account_id
        body["region"] = sender.region
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": json.dumps(body),
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._stack.queue_arn,
            "awsRegion": PRODUCTION_REGION,
        }

    def _invoke(
        self, records: list[dict[str, Any]]
    ) -> tuple[dict[str, Mapping[str, Any]], set[str]]:
        context = lambda_context(self._function, f"elm-local-{len(self.batches) + 1}", 60)
        with _handler_output() as output:
            response = lambda_handler.handler({"Records": records}, context)
        failures = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        logs: dict[str, Mapping[str, Any]] = {}
        for line in output.getvalue().splitlines():
            entry = _json_line(line)
            if entry is None:
                continue
            if "outcome" in entry and "message_id" in entry:
                logs[str(entry["message_id"])] = entry
            for metric, value in _emf_metrics(entry):
                self.metrics[metric] += value
        missing = [r["messageId"] for r in records if r["messageId"] not in logs]
        if missing:
            raise LocalPipelineError(
                f"the handler logged no outcome for message {missing[0]}: "
                "every outcome must be one log line (docs/behaviour.md, The decisions)"
            )
        return logs, failures


def _identity_fields(detail: Mapping[str, Any]) -> Mapping[str, Any]:
    """Where the event's account, region and resource are: a configuration item change
    keeps them in its item (or, oversized, its summary); a compliance change in its detail."""
    for name in ("configurationItem", "configurationItemSummary"):
        item = detail.get(name)
        if isinstance(item, dict):
            return item
    return detail


def _sender(pending: Mapping[_WaveKey, OutgoingEvent], body: str) -> OutgoingEvent:
    """The event of this wave that a queued message came from."""
    detail = json.loads(body).get("detail", {})
    fields = _identity_fields(detail)
    key = (
        str(fields.get("awsAccountId")),
        str(fields.get("awsRegion")),
        str(detail.get("configRuleName", "")) or _ITEM_WAVE,
    )
    item = pending.get(key)
    if item is None:
        raise LocalPipelineError(f"a message arrived that no event of this wave sent: {key}")
    return item


@contextlib.contextmanager
def _handler_output() -> Iterator[io.StringIO]:
    """The handler's log lines and metrics, captured instead of printed."""
    output = io.StringIO()
    stream_handler = lambda_handler.logger.registered_handler
    previous = stream_handler.setStream(output)  # type: ignore[attr-defined]
    try:
        # Powertools prints the metrics (embedded metric format) to standard output.
        with contextlib.redirect_stdout(output):
            yield output
    finally:
        stream_handler.setStream(previous)  # type: ignore[attr-defined]


def _json_line(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _emf_metrics(entry: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    aws = entry.get("_aws")
    if not isinstance(aws, dict):
        return
    for directive in aws.get("CloudWatchMetrics", []):
        for metric in directive.get("Metrics", []):
            name = metric.get("Name")
            value = entry.get(name)
            if isinstance(name, str) and isinstance(value, int | float):
                yield name, int(value)
            elif isinstance(name, str) and isinstance(value, list):
                yield name, int(sum(value))
