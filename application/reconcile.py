"""The reconciliation sweep (SPEC §6): close the open exceptions whose deletion event was lost.

AWS Config delivers its events on a best-effort basis. The sweep walks every open record
(one paginated Scan), groups them by account, region and resource type, asks AWS Config
about each group (at most 20 IDs a call, at most so many calls a second per account), and
closes or records members exactly as the event path does: `domain.lifecycle.decide` with a
reconciliation trigger, written through `write_decision`.

A key (or member, or ARN resource part) may hold the resource's name rather than its ID
(SPEC §5): an IAM role's name, where Config's ID is `AROA…`. What Config does not report by
ID is therefore asked by name, one call per name (Config takes one name a call, never with
IDs), paced and budgeted like the others. A name counts as deleted only when Config reports
no live resource of exactly that name and at least one deleted one: without an event naming
the deleted resource, a live resource of that name is what the exception covers now (the
name is in use again), and closing it would take the exception from a resource that exists.

Bounded: a wall-clock budget stops the sweep between Config calls, never between a call and
its writes, and the report names the group to resume from. Each record is written whole or
not at all, so a stop or a throttled call leaves nothing half-written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Protocol, assert_never

from attrs import define, field, frozen

from application.conditional_write import write_decision
from application.errors import RecordFormatError, TransientError
from application.handle_change import Policy
from application.ports import (
    MAX_IDS_PER_CALL,
    Clock,
    ExceptionStore,
    ResourceInventory,
    ResourceState,
    RuleCatalog,
    Timer,
)
from application.sweep_limits import SweepLimits
from domain.arn_formats import ARN_FORMATS
from domain.events import is_account_id, is_region_name
from domain.lifecycle import Duplicate, RecordUpdate, Trigger, decide
from domain.matching import Arn
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionKind, Rule

__all__ = [
    "GroupFailure",
    "GroupKey",
    "NoProgress",
    "Reconcile",
    "RecordNote",
    "SweepLimits",
    "SweepOutcome",
    "SweepProgress",
    "SweepReport",
    "SweepRequest",
    "SweepStop",
]


class SweepOutcome(Enum):
    """What the sweep did with one open record."""

    CLOSED = "closed"
    MEMBER_DELETED = "member-deleted"
    NOT_CONFIRMED = "not-confirmed"
    DUPLICATE = "duplicate"
    UNKNOWN_TYPE = "unknown-type"
    UNKNOWN_RULE = "unknown-rule"
    BAD_KEY = "bad-key"
    REJECTED = "rejected"
    FAILED = "failed"
    NOT_REACHED = "not-reached"


@frozen(order=True)
class GroupKey:
    """The records one Config call can ask about: one account, region and resource type."""

    account_id: str
    region: str
    resource_type: str

    @property
    def cursor(self) -> str:
        """The group as `--resume-from` takes it: ``account/region/type``."""
        return f"{self.account_id}/{self.region}/{self.resource_type}"

    @classmethod
    def from_cursor(cls, text: str) -> GroupKey:
        """Parse ``account/region/type``; raise ValueError with a one-line reason."""
        parts = text.strip().split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"resume cursor must be ACCOUNT/REGION/TYPE (got {text!r})")
        account_id, region, resource_type = parts
        if not is_account_id(account_id):
            raise ValueError(f"resume cursor account must be 12 digits (got {account_id!r})")
        if not is_region_name(region):
            raise ValueError(f"resume cursor region is not a region name (got {region!r})")
        return cls(account_id, region, resource_type)


@frozen
class SweepRequest:
    """One run's scope: accounts and regions (None: all), dry run, budget, where to resume."""

    run_id: str | None = None
    accounts: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    dry_run: bool | None = None
    budget_seconds: float | None = None
    resume_from: GroupKey | None = None


@frozen
class RecordNote:
    """One record the report names: what the sweep changed, or could not ask about."""

    record_key: RecordKey
    region: str
    outcome: SweepOutcome
    reason: str
    members: tuple[str, ...] = ()


@frozen
class GroupFailure:
    """A group whose Config call or write failed; its unsettled records are counted `failed`."""

    group: GroupKey
    reason: str
    records: int


@frozen
class SweepStop:
    """Where a sweep stopped when its budget ran out."""

    reason: str
    resume_from: GroupKey | None
    records_scanned: int


@frozen
class SweepReport:
    """The result of one sweep; `config_calls` counts every Config call, by ID and by name."""

    run_id: str
    dry_run: bool
    records_scanned: int
    groups: int
    config_calls: int
    counts: Mapping[SweepOutcome, int]
    per_account: Mapping[str, Mapping[SweepOutcome, int]]
    changes: tuple[RecordNote, ...]
    unresolved: tuple[RecordNote, ...]
    failures: tuple[GroupFailure, ...]
    stopped: SweepStop | None
    scan_failure: str | None = None
    name_calls: int = 0
    """Of `config_calls`, those asking by name (one a name), not by up to 20 IDs."""

    @property
    def complete(self) -> bool:
        """True when the whole table was read and every group in scope was asked about."""
        return self.stopped is None and self.scan_failure is None

    @property
    def failed(self) -> bool:
        """True when a group or the table scan failed: something is left to retry."""
        return bool(self.failures) or self.scan_failure is not None

    def count(self, outcome: SweepOutcome) -> int:
        return self.counts.get(outcome, 0)


class SweepProgress(Protocol):
    """Told how many records the sweep will ask about, then as they are settled."""

    def start(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


class NoProgress:
    """Progress reporting that reports nothing."""

    def start(self, total: int) -> None:
        return None

    def advance(self, count: int) -> None:
        return None


@frozen
class _Item:
    """An open record to confirm, and what to ask Config about: (key or member, ID or name)."""

    record: ExceptionRecord
    rule: Rule
    asks: tuple[tuple[str, str], ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for _, i in self.asks))


class _BudgetSpent(Exception):
    """The budget ran out before the next Config call."""


@define
class _Tally:
    """What one run has done so far."""

    counts: Counter[SweepOutcome] = field(factory=Counter)
    per_account: dict[str, Counter[SweepOutcome]] = field(factory=dict)
    changes: list[RecordNote] = field(factory=list)
    unresolved: list[RecordNote] = field(factory=list)
    failures: list[GroupFailure] = field(factory=list)
    config_calls: int = 0
    name_calls: int = 0

    def add(self, record: ExceptionRecord, outcome: SweepOutcome) -> None:
        self.counts[outcome] += 1
        self.per_account.setdefault(record.account_id, Counter())[outcome] += 1

    def note(self, record: ExceptionRecord, outcome: SweepOutcome, reason: str) -> None:
        self.add(record, outcome)
        self.unresolved.append(RecordNote(record.record_key, record.region, outcome, reason))


@define
class _Plan:
    """What the Scan pass found: the groups to ask about, and whether it was cut short."""

    groups: dict[GroupKey, list[_Item]] = field(factory=dict)
    scanned: int = 0
    stopped: SweepStop | None = None
    scan_failure: str | None = None


@define
class _Pacer:
    """The wall-clock budget, and the Config call rate per account."""

    timer: Timer
    deadline: float
    interval: float
    _next_call: dict[str, float] = field(factory=dict)

    def expired(self) -> bool:
        return self.timer.monotonic() >= self.deadline

    def before_call(self, account_id: str) -> None:
        """Wait for the account's next call slot; raise `_BudgetSpent` if it is past the budget."""
        now = self.timer.monotonic()
        wait = max(0.0, self._next_call.get(account_id, now) - now)
        if now + wait >= self.deadline:
            raise _BudgetSpent
        if wait:
            self.timer.sleep(wait)
        self._next_call[account_id] = now + wait + self.interval


@frozen
class Reconcile:
    """Sweep the open exceptions and close those AWS Config confirms deleted."""

    rules: RuleCatalog
    store: ExceptionStore
    inventory: ResourceInventory
    clock: Clock
    timer: Timer
    policy: Policy = field(factory=Policy)
    limits: SweepLimits = field(factory=SweepLimits)

    def execute(
        self, request: SweepRequest | None = None, progress: SweepProgress | None = None
    ) -> SweepReport:
        """Run one sweep and report what it did; never raises for a failed group."""
        request = request or SweepRequest()
        progress = progress or NoProgress()
        dry_run = self.policy.dry_run if request.dry_run is None else request.dry_run
        run_id = request.run_id or f"reconcile-{self.clock.now():%Y%m%dT%H%M%SZ}"
        budget = request.budget_seconds or self.limits.budget_seconds
        pacer = _Pacer(
            self.timer, self.timer.monotonic() + budget, 1.0 / self.limits.max_calls_per_second
        )
        tally = _Tally()
        plan = self._plan(request, pacer, tally)
        groups, stopped = plan.groups, plan.stopped
        order = _resume_order(sorted(groups), request.resume_from)
        if stopped is None:
            progress.start(sum(len(groups[g]) for g in order))
            trigger = Trigger(run_id, reconciled=True)
            for index, group in enumerate(order):
                try:
                    self._sweep_group(
                        group, groups[group], trigger, dry_run, pacer, tally, progress
                    )
                except _BudgetSpent:
                    stopped = SweepStop("budget spent", group, plan.scanned)
                    for later in order[index + 1 :]:
                        for item in groups[later]:
                            tally.add(item.record, SweepOutcome.NOT_REACHED)
                    break
        return SweepReport(
            run_id=run_id,
            dry_run=dry_run,
            records_scanned=plan.scanned,
            groups=len(groups),
            config_calls=tally.config_calls,
            counts=dict(tally.counts),
            per_account={a: dict(c) for a, c in sorted(tally.per_account.items())},
            changes=tuple(tally.changes),
            unresolved=tuple(tally.unresolved),
            failures=tuple(tally.failures),
            stopped=stopped,
            scan_failure=plan.scan_failure,
            name_calls=tally.name_calls,
        )

    def _plan(self, request: SweepRequest, pacer: _Pacer, tally: _Tally) -> _Plan:
        """One Scan pass: the records in scope, grouped; the others counted and listed.

        A failed or unreadable page ends the pass; the records read before it are still
        swept, and the report says the table was not read whole.
        """
        plan = _Plan()
        page = self.limits.page_size
        try:
            rules = {r.rule_id: r for r in self.rules.list_rules()}
            for record in self.store.scan_open(page):
                plan.scanned += 1
                if plan.scanned % page == 0 and pacer.expired():
                    return _Plan(
                        scanned=plan.scanned,
                        stopped=SweepStop("budget spent while scanning", None, plan.scanned),
                    )
                if _in_scope(record, request):
                    self._classify(record, rules, plan, tally)
        except (TransientError, RecordFormatError) as error:
            plan.scan_failure = f"reading the tables: {error}"
        return plan

    def _classify(
        self, record: ExceptionRecord, rules: Mapping[int, Rule], plan: _Plan, tally: _Tally
    ) -> None:
        """Put the record in its group, or count and list why it cannot be asked about."""
        allowed = self.policy.allowed_accounts
        if allowed is not None and record.account_id not in allowed:
            tally.note(
                record,
                SweepOutcome.REJECTED,
                f"account {record.account_id} is not in ELM_ALLOWED_ACCOUNTS",
            )
            return
        rule = rules.get(record.rule_id)
        if rule is None:
            tally.note(
                record,
                SweepOutcome.UNKNOWN_RULE,
                f"rule {record.rule_id} is not in the rules table",
            )
            return
        resource_type = _resource_type(record, rule)
        if resource_type is None:
            tally.note(record, SweepOutcome.UNKNOWN_TYPE, _unknown_type_reason(rule))
            return
        try:
            asks = _asks(record, rule, resource_type)
        except _Unaskable as error:
            tally.note(record, SweepOutcome.BAD_KEY, str(error))
            return
        group = GroupKey(record.account_id, record.region, resource_type)
        plan.groups.setdefault(group, []).append(_Item(record, rule, asks))

    def _sweep_group(
        self,
        group: GroupKey,
        items: Sequence[_Item],
        trigger: Trigger,
        dry_run: bool,
        pacer: _Pacer,
        tally: _Tally,
        progress: SweepProgress,
    ) -> None:
        batches = _batches(items)
        for index, batch in enumerate(batches):
            unsettled = [item for later in batches[index:] for item in later]
            try:
                states = self._ask(group, batch, pacer, tally)
            except _BudgetSpent:
                for item in unsettled:
                    tally.add(item.record, SweepOutcome.NOT_REACHED)
                raise
            except TransientError as error:
                self._fail(group, unsettled, f"AWS Config: {error}", tally)
                return
            for position, item in enumerate(batch):
                try:
                    self._settle(group, item, states, trigger, dry_run, tally)
                except (TransientError, RecordFormatError) as error:
                    rest = unsettled[position:]
                    self._fail(group, rest, f"exception table: {error}", tally)
                    progress.advance(position)
                    return
            progress.advance(len(batch))

    def _ask(
        self, group: GroupKey, batch: Sequence[_Item], pacer: _Pacer, tally: _Tally
    ) -> dict[str, ResourceState]:
        """Every answer for the batch, by ID then by name, or an exception before any write.

        Keyed by what was asked: an ID Config reports, or a name it reports (see `_by_name`).
        """
        ids = list(dict.fromkeys(i for item in batch for i in item.ids))
        states: dict[str, ResourceState] = {}
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            pacer.before_call(group.account_id)
            tally.config_calls += 1
            states.update(
                self.inventory.lookup(
                    group.account_id,
                    group.region,
                    group.resource_type,
                    ids[start : start + MAX_IDS_PER_CALL],
                )
            )
        for name in [i for i in ids if i not in states]:
            pacer.before_call(group.account_id)
            tally.config_calls += 1
            tally.name_calls += 1
            found = self.inventory.lookup_by_name(
                group.account_id, group.region, group.resource_type, name
            )
            state = _by_name(name, found)
            if state is not None:
                states[name] = state
        return states

    def _settle(
        self,
        group: GroupKey,
        item: _Item,
        states: Mapping[str, ResourceState],
        trigger: Trigger,
        dry_run: bool,
        tally: _Tally,
    ) -> None:
        record = item.record
        confirmed = frozenset(
            key for key, rid in item.asks if (s := states.get(rid)) is not None and s.deleted
        )
        if not confirmed:
            tally.add(record, SweepOutcome.NOT_CONFIRMED)
            return

        def decider(current: ExceptionRecord) -> RecordUpdate | Duplicate:
            return decide(
                current,
                item.rule.kind,
                confirmed,
                trigger=trigger,
                now=self.clock.now(),
                retention_days=self.policy.retention_days,
                resource_type=group.resource_type,
            )

        decision = write_decision(
            self.store,
            record,
            decider,
            max_attempts=self.policy.max_write_attempts,
            dry_run=dry_run,
        )
        if decision is None or isinstance(decision, Duplicate):
            tally.add(record, SweepOutcome.DUPLICATE)
            return
        outcome = SweepOutcome.CLOSED if decision.closure else SweepOutcome.MEMBER_DELETED
        members = tuple(m for m in record.members() if m in decision.members_added)
        verb = "would be" if dry_run else "was"
        tally.add(record, outcome)
        tally.changes.append(
            RecordNote(
                record.record_key,
                record.region,
                outcome,
                f"AWS Config reports the deletion; exception {verb} {outcome.value}",
                members,
            )
        )

    @staticmethod
    def _fail(group: GroupKey, items: Sequence[_Item], reason: str, tally: _Tally) -> None:
        for item in items:
            tally.add(item.record, SweepOutcome.FAILED)
        tally.failures.append(GroupFailure(group, reason, len(items)))


def _in_scope(record: ExceptionRecord, request: SweepRequest) -> bool:
    return (request.accounts is None or record.account_id in request.accounts) and (
        request.regions is None or record.region in request.regions
    )


def _resource_type(record: ExceptionRecord, rule: Rule) -> str | None:
    """The record's own type, else the rule's only type; never a guess."""
    if record.resource_type:
        return record.resource_type
    if len(rule.resource_types) == 1:
        return next(iter(rule.resource_types))
    return None


def _unknown_type_reason(rule: Rule) -> str:
    if not rule.resource_types:
        return f"no ResourceType on the record and none for rule {rule.name!r}"
    listed = ", ".join(sorted(rule.resource_types))
    return f"no ResourceType on the record and rule {rule.name!r} lists several ({listed})"


class _Unaskable(ValueError):
    """A key the sweep cannot ask AWS Config about; the message says why."""


def _asks(record: ExceptionRecord, rule: Rule, resource_type: str) -> tuple[tuple[str, str], ...]:
    """(key or member, ID or name to ask Config about) for each open one; `_Unaskable`."""
    match rule.kind:
        case ExceptionKind.SIMPLE_ID | ExceptionKind.SIMPLE_ARN:
            keys: tuple[str, ...] = (record.key,)
        case ExceptionKind.COMPOSITE:
            keys = record.open_members()
        case _:
            assert_never(rule.kind)
    return tuple(
        (key, _resource_id(key, rule.exception_format, record, resource_type)) for key in keys
    )


def _resource_id(
    key: str, exception_format: ExceptionFormat, record: ExceptionRecord, resource_type: str
) -> str:
    """What Config is asked for, by ID then by name: the key, or an ARN's resource part."""
    if exception_format is ExceptionFormat.RESOURCE_ID:
        return key
    arn = Arn.parse(key)
    if arn is None:
        raise _Unaskable(f"{key!r} is not a well-formed ARN")
    if arn.account not in ("", record.account_id):
        raise _Unaskable(f"ARN {key!r} names account {arn.account}, the record {record.account_id}")
    if arn.region not in ("", record.region):
        raise _Unaskable(f"ARN {key!r} names region {arn.region}, the record {record.region}")
    # The same ARN shapes as the event path (domain.arn_formats): an ARN carries its type.
    shape = ARN_FORMATS.get(resource_type)
    if shape is None:
        return key  # only an ID equal to the ARN (load balancers) can confirm it
    if arn.service != shape.service or not arn.resource.startswith(shape.prefix):
        raise _Unaskable(f"ARN {key!r} is not the ARN of a {resource_type}")
    rest = arn.resource[len(shape.prefix) :]
    return rest.rsplit("/", 1)[-1] if shape.path else rest


def _by_name(name: str, found: Iterable[ResourceState]) -> ResourceState | None:
    """The state a name stands for: a live resource of exactly that name, else a deleted one.

    Exact comparison (SPEC §5), whatever Config's name filter matched. A live one wins: the
    name is in use again, and an exception is never closed while what it names exists.
    """
    named = [s for s in found if s.resource_name == name]
    return next((s for s in named if not s.deleted), None) or next(iter(named), None)


def _batches(items: Sequence[_Item]) -> list[list[_Item]]:
    """Records packed so that each batch's IDs fill one Config call (a larger record alone)."""
    batches: list[list[_Item]] = []
    current: list[_Item] = []
    ids: set[str] = set()
    for item in items:
        merged = ids | set(item.ids)
        if current and len(merged) > MAX_IDS_PER_CALL:
            batches.append(current)
            current, merged = [], set(item.ids)
        current.append(item)
        ids = merged
    if current:
        batches.append(current)
    return batches


def _resume_order(groups: Iterable[GroupKey], resume_from: GroupKey | None) -> list[GroupKey]:
    """The groups from ``resume_from`` on, then the ones before it (a run wraps around)."""
    ordered = list(groups)
    if resume_from is None:
        return ordered
    return [g for g in ordered if g >= resume_from] + [g for g in ordered if g < resume_from]
