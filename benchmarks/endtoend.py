"""Figures 2 and 4: the real Lambda handler on moto, against the seed design's handler.

ELM runs through `entrypoints.lambda_handler.handler` exactly as Lambda calls it (an SQS
batch, a context), its container built from the environment, its clients made by its own
adapters; only the endpoint is moto. The reference takes one message per invocation.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from attrs import frozen

from benchmarks import aws
from benchmarks.counting import CallCounter, counting
from benchmarks.data import COMPOSITE_MEMBERS, KINDS, busiest_account, generate
from benchmarks.report import Met, Row, Section, not_measured, ratio
from domain.rules import ExceptionKind

__all__ = [
    "BATCH_SIZE",
    "BatchCalls",
    "Throughput",
    "api_calls_per_event",
    "end_to_end",
    "handler_available",
    "measure_batch_calls",
    "measure_end_to_end",
]

BATCH_SIZE = 10
HANDLER = "entrypoints.lambda_handler"


@frozen
class _Context:
    """The parts of a Lambda context the handler's toolkit reads."""

    function_name: str = "elm-status-update"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:elm-status-update"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "bench-request"
    log_group_name: str = "/aws/lambda/elm-status-update"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty: the benchmark never runs into the Lambda timeout."""
        return 300_000


def handler_available() -> str | None:
    """None when the Lambda handler and ELM's DynamoDB adapters can run, else why not."""
    missing = aws.elm_adapters_available()
    if missing:
        return missing
    try:
        import entrypoints.lambda_handler  # noqa: F401
    except ImportError as error:
        return f"the Lambda handler is not on this branch yet ({error.name})"
    return None


def sqs_event(bodies: Sequence[str], first: int = 0) -> dict[str, Any]:
    """A Lambda SQS event carrying ``bodies``."""
    return {
        "Records": [
            {
                "messageId": f"bench-message-{first + n:06d}",
                "receiptHandle": f"bench-receipt-{first + n:06d}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:elm-events",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


class _ElmLambda:
    """The real handler in a fresh container, its log lines and metrics kept off the screen."""

    def __init__(self) -> None:
        from entrypoints import lambda_handler

        self._module = lambda_handler
        lambda_handler.use_container_factory(None)

    def invoke(self, bodies: Sequence[str], first: int = 0) -> list[str]:
        """One invocation; the ids of the failed records."""
        response = self._module.handler(sqs_event(bodies, first), _Context())
        return [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Discard the handler's output (it is still produced: its cost is part of the figure)."""
    from entrypoints import lambda_handler

    sink = io.StringIO()
    handler = lambda_handler.logger.registered_handler
    stream = handler.setStream(sink) if isinstance(handler, logging.StreamHandler) else None
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        if isinstance(handler, logging.StreamHandler) and stream is not None:
            handler.setStream(stream)


_ENV = {
    "ELM_EXCEPTIONS_TABLE": aws.ELM_EXCEPTIONS,
    "ELM_RULES_TABLE": aws.ELM_RULES,
    "POWERTOOLS_METRICS_NAMESPACE": "ELM",
}


@contextlib.contextmanager
def _settings() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update(_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _per_event(counter: CallCounter, service: str, events: int) -> float:
    return counter.service_calls(service) / events


@frozen
class BatchCalls:
    """The calls each design made for one batch of events of one kind."""

    kind: ExceptionKind
    regions: tuple[str, ...]
    elm: CallCounter
    reference: CallCounter
    elm_failed: int

    @property
    def events(self) -> int:
        """The events of the batch."""
        return len(self.regions)

    @property
    def resources(self) -> int:
        """Distinct resources of the batch's one type that Config is asked about."""
        return self.events * self._per_event

    @property
    def allowed_config_calls(self) -> int:
        """One call per 20 resources of the type, counted per region: Config is regional."""
        return sum(
            math.ceil(self.regions.count(r) * self._per_event / 20) for r in set(self.regions)
        )

    @property
    def _per_event(self) -> int:
        return COMPOSITE_MEMBERS if self.kind is ExceptionKind.COMPOSITE else 1


def measure_batch_calls(size: int, batch: int) -> list[BatchCalls]:
    """For each kind: ELM's handler on one batch (fresh container), the reference per event."""
    dataset = generate(size, batch, account=busiest_account(size))
    results = []
    with aws.emulated_aws(dataset), _settings(), _quiet():
        container = aws.session()
        client = container.client("dynamodb")
        aws.load_elm_tables(client, dataset)
        aws.load_reference_tables(client, dataset)
        reference = aws.reference_handler(container)
        for kind in KINDS:
            bodies = [json.dumps(e) for e in dataset.events[kind]]
            elm_lambda = _ElmLambda()
            with counting() as elm:
                failed = elm_lambda.invoke(bodies)
            with counting() as ref:
                for body in bodies:
                    reference.handler({"Records": [{"body": body}]})
            regions = tuple(e["region"] for e in dataset.events[kind])
            results.append(BatchCalls(kind, regions, elm, ref, len(failed)))
    return results


def api_calls_per_event(size: int, batch: int = BATCH_SIZE) -> Section:
    """Figure 2: calls per event for a batch of events from one account, per kind."""
    title = f"API calls per event, batch of {batch} from one account"
    method = (
        f"A {size:,}-record data set; for each kind, {batch} deletion events from the "
        f"account holding the most records. ELM: one invocation of the real handler with "
        f"the {batch} events as one SQS batch, in a fresh container (the first "
        f"invocation pays for the rules-table read and the role). Reference: "
        f"{batch} invocations of one message each in one container. Calls counted by "
        "service and operation with a botocore `after-call` hook on every client; STS on "
        "moto, Config answered from the data set by a `before-call` hook (the client still "
        "makes, and the hook still counts, every call). The STS target counts AssumeRole; "
        "ELM also calls GetCallerIdentity once per container, to learn its partition. "
        "ELM looks up a batch's resources together (application/batch_lookup.py): one "
        "`ListDiscoveredResources` per account, region and type, 20 IDs a call, a "
        "composite's other members included. Config is regional and the account's records "
        "are spread over two regions, so the Config target allows one call per 20 "
        "resources of the type in each region the batch's events come from."
    )
    unavailable = handler_available()
    if unavailable:
        return not_measured(title, method, unavailable)
    rows = []
    notes = []
    config_missed = False
    for b in measure_batch_calls(size, batch):
        elm, ref, events = b.elm, b.reference, b.events
        if b.elm_failed:
            notes.append(f"{b.kind.value}: {b.elm_failed} of ELM's records failed.")
        rows.append(
            Row(
                f"DynamoDB calls/event, {b.kind.value}",
                f"{_per_event(elm, 'dynamodb', events):.2f}",
                f"{_per_event(ref, 'dynamodb', events):.2f}",
                ratio(_per_event(ref, "dynamodb", events), _per_event(elm, "dynamodb", events)),
            )
        )
        rows.append(
            Row(
                f"STS calls/event, {b.kind.value}",
                f"{_per_event(elm, 'sts', events):.2f} ({_operations(elm, 'sts')})",
                f"{_per_event(ref, 'sts', events):.2f}",
                ratio(_per_event(ref, "sts", events), _per_event(elm, "sts", events)),
                "AssumeRole <= 1 per account per container",
                Met.of(elm.calls[("sts", "AssumeRole")] <= 1),
            )
        )
        allowed = b.allowed_config_calls
        config_calls = elm.service_calls("config-service")
        config_missed |= config_calls > allowed
        in_regions = len(set(b.regions))
        rows.append(
            Row(
                f"Config calls/event, {b.kind.value}",
                f"{config_calls / events:.2f} ({config_calls} calls, {b.resources} resources "
                f"in {in_regions} region{'s' if in_regions > 1 else ''})",
                f"{_per_event(ref, 'config-service', events):.2f}",
                ratio(_per_event(ref, "config-service", events), config_calls / events),
                "<= 1 call per 20 resources of a type (and region)",
                Met.of(config_calls <= allowed),
            )
        )
        notes.append(f"{b.kind.value}: ELM {_operations(elm)}; reference {_operations(ref)}.")
    if config_missed:
        notes.append(
            "Missed (Config): the batch made more `ListDiscoveredResources` calls than one per "
            "20 resources of a type in a region; see the calls above."
        )
    return Section(title, method, tuple(rows), tuple(notes))


def _operations(counter: CallCounter, only: str | None = None) -> str:
    return ", ".join(
        f"{op} {n}" if only else f"{service}.{op} {n}"
        for (service, op), n in sorted(counter.calls.items())
        if only in (None, service)
    )


@frozen
class Throughput:
    """Events handled and the wall time each design took."""

    elm_events: int
    elm_seconds: float
    elm_failed: int
    reference_events: int
    reference_seconds: float
    reference_outcomes: dict[str, int]

    @property
    def elm_rate(self) -> float:
        """ELM's events per second."""
        return self.elm_events / self.elm_seconds

    @property
    def reference_rate(self) -> float:
        """The reference's events per second."""
        return self.reference_events / self.reference_seconds


def measure_end_to_end(size: int, events_per_kind: int, reference_events: int) -> Throughput:
    """Both handlers on their own copy of the same tables, on the same events."""
    dataset = generate(size, events_per_kind)
    bodies = [json.dumps(e) for e in dataset.all_events()]
    sampled = bodies[:reference_events]
    outcomes: dict[str, int] = {}
    with aws.emulated_aws(dataset), _settings(), _quiet():
        container = aws.session()
        client = container.client("dynamodb")
        aws.load_elm_tables(client, dataset)
        aws.load_reference_tables(client, dataset)
        elm_lambda = _ElmLambda()
        failed = 0
        start = time.perf_counter()
        for first in range(0, len(bodies), BATCH_SIZE):
            failed += len(elm_lambda.invoke(bodies[first : first + BATCH_SIZE], first))
        elm_seconds = time.perf_counter() - start
        reference = aws.reference_handler(container)
        start = time.perf_counter()
        for body in sampled:
            outcome = reference.handle(body)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        reference_seconds = time.perf_counter() - start
    return Throughput(len(bodies), elm_seconds, failed, len(sampled), reference_seconds, outcomes)


def end_to_end(size: int, events_per_kind: int, reference_events: int) -> Section:
    """Figure 4: events/s through each design's handler, on the same tables and events."""
    title = "End to end on moto"
    method = (
        f"A {size:,}-record data set, {events_per_kind} deletion events of each kind, the "
        f"kinds interleaved. ELM: the real handler, SQS batches of {BATCH_SIZE}, one fresh "
        f"container for the whole run. Reference: one message per invocation, one "
        f"container, on the first {reference_events} of the same events (its cost per event "
        f"does not depend on which events: the Scans read the whole table). Each design on "
        f"its own copy of the tables in one moto (in-process), wall time around the "
        f"invocations only; Config answered by a botocore hook. moto's Query and Scan "
        f"visit only the items they keep, as DynamoDB does (benchmarks/emulation.py); moto's "
        f"per-call overhead (a Python HTTP emulation) dominates both designs, so the ratio "
        f"understates what the read counts of figure 1 mean on real DynamoDB. The events "
        f"come from 200 accounts in 2 regions, so most are the first of their account and "
        f"region in ELM's container and pay for an AssumeRole and a new Config client; "
        f"the reference pays for both on every event."
    )
    unavailable = handler_available()
    if unavailable:
        return not_measured(title, method, unavailable)
    result = measure_end_to_end(size, events_per_kind, reference_events)
    notes = []
    if result.elm_failed:
        notes.append(f"{result.elm_failed} of ELM's records failed.")
    notes.append(
        "Reference outcomes: "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.reference_outcomes.items()))
        + "."
    )
    rows = (
        Row(
            f"events/s through the handler, {size:,} records, mixed kinds",
            f"{result.elm_rate:,.0f} ({result.elm_events} events)",
            f"{result.reference_rate:,.1f} ({result.reference_events} events)",
            ratio(result.elm_rate, result.reference_rate),
            "faster than the reference",
            Met.of(result.elm_rate > result.reference_rate),
        ),
    )
    return Section(title, method, rows, tuple(notes))
