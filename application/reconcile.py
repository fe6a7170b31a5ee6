"""The reconciliation sweep (docs/sweep.md): close the open exceptions whose deletion
event was lost.

AWS Config delivers its events on a best-effort basis. The sweep groups the open records
by account, region and resource type (`classify`), asks AWS Config about each group (at
most 20 IDs a call, at most so many calls a second per account), and closes or records
members exactly as the event path does (`sweep_items`): `domain.lifecycle.decide` with a
reconciliation trigger, written through `write_decision`. These two are the whole of it:
the distributed run's workers (application/sweep_run.py) call them for their Scan segments
and chunks, and `execute` works that same plan in this process
(application/sweep_in_process.py).

A key (or member, or ARN resource part) may hold the resource's name rather than its ID
(docs/matching.md): an IAM role's name, where Config's ID is `AROA…`. What Config does not report by
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

from collections.abc import Iterable, Mapping, Sequence

from attrs import define, field, frozen

from application.announce import PublishEvents
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
from application.sweep_plan import (
    Plan,
    Unaskable,
    WorkItem,
    asks_for,
    chunks,
    in_scope,
    resource_type_of,
    unknown_type_reason,
)
from application.sweep_report import (
    ExpiringRecord,
    GroupFailure,
    GroupKey,
    NoProgress,
    RecordNote,
    SweepOutcome,
    SweepProgress,
    SweepReport,
    SweepRequest,
    SweepStop,
    Tally,
)
from domain.lifecycle import Duplicate, RecordUpdate, Trigger, decide
from domain.records import ExceptionRecord
from domain.rules import Rule

__all__ = [
    "ExpiringRecord",
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


class _BudgetSpent(Exception):
    """The budget ran out before the next Config call."""


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
    publish: PublishEvents | None = None
    """Where the run's own events go once it finished (None: nowhere)."""

    def execute(
        self, request: SweepRequest | None = None, progress: SweepProgress | None = None
    ) -> SweepReport:
        """Run one sweep in this process and report what it did; never raises for a failed
        group. It is the distributed run's plan (`SweepInProcess`) on the whole table."""
        # Imported here: the plan's workers are built on this class's classify/sweep_items.
        from application.sweep_in_process import SweepInProcess, WholeTable
        from application.sweep_run import RunSettings

        settings = RunSettings(segments=1, page_size=self.limits.page_size)
        return SweepInProcess(
            self, WholeTable(self.store), self.clock, self.timer, settings
        ).execute(request, progress)

    def classify(
        self,
        records: Iterable[ExceptionRecord],
        rules: Mapping[int, Rule],
        request: SweepRequest,
        tally: Tally,
    ) -> Plan:
        """Group the records in scope exactly as a sweep does; count and list the others.

        For a distributed sweep's work items: the same scope, rule prefix and type rules.
        """
        plan = Plan()
        for record in records:
            plan.scanned += 1
            if in_scope(record, request):
                self._classify(record, rules, plan, tally)
        return plan

    def sweep_items(
        self,
        group: GroupKey,
        items: Sequence[WorkItem],
        trigger: Trigger,
        dry_run: bool,
        tally: Tally,
        progress: SweepProgress | None = None,
        *,
        deadline: float | None = None,
        next_calls: dict[str, float] | None = None,
    ) -> bool:
        """Confirm and settle one group's items as a sweep does; False if the budget ran out.

        The budget ends at ``deadline`` (on `timer.monotonic`; default `limits.budget_seconds`
        from now), and the per-account pace applies: pass the same ``next_calls`` to
        successive calls so that the pace holds across them (each account's next call slot).
        """
        if deadline is None:
            deadline = self.timer.monotonic() + self.limits.budget_seconds
        interval = 1.0 / self.limits.max_calls_per_second
        pacer = _Pacer(self.timer, deadline, interval, {} if next_calls is None else next_calls)
        try:
            self._sweep_group(
                group, items, trigger, dry_run, pacer, tally, progress or NoProgress()
            )
        except _BudgetSpent:
            return False
        return True

    def _classify(
        self, record: ExceptionRecord, rules: Mapping[int, Rule], plan: Plan, tally: Tally
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
        if not rule.name.startswith(self.policy.rule_prefix):
            # Another environment's rule on shared tables: counted, never asked about or
            # written, and not listed (a shared table may hold many of them).
            tally.add(record, SweepOutcome.OUT_OF_SCOPE)
            return
        if record.ttl is not None:
            # Open, yet DynamoDB will delete it: listed whatever the sweep decides for it.
            tally.expiring.append(ExpiringRecord(record.record_key, record.region, record.ttl))
        resource_type = resource_type_of(record, rule)
        if resource_type is None:
            tally.note(record, SweepOutcome.UNKNOWN_TYPE, unknown_type_reason(rule))
            return
        try:
            asks = asks_for(record, rule, resource_type)
        except Unaskable as error:
            tally.note(record, SweepOutcome.BAD_KEY, str(error))
            return
        group = GroupKey(record.account_id, record.region, resource_type)
        plan.groups.setdefault(group, []).append(WorkItem(record, rule, asks))

    def _sweep_group(
        self,
        group: GroupKey,
        items: Sequence[WorkItem],
        trigger: Trigger,
        dry_run: bool,
        pacer: _Pacer,
        tally: Tally,
        progress: SweepProgress,
    ) -> None:
        batches = chunks(items)
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
        self, group: GroupKey, batch: Sequence[WorkItem], pacer: _Pacer, tally: Tally
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
        item: WorkItem,
        states: Mapping[str, ResourceState],
        trigger: Trigger,
        dry_run: bool,
        tally: Tally,
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
                rule_types=item.rule.resource_types,
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
                rule_name=item.rule.name,
                resource_type=group.resource_type,
            )
        )

    @staticmethod
    def _fail(group: GroupKey, items: Sequence[WorkItem], reason: str, tally: Tally) -> None:
        for item in items:
            tally.add(item.record, SweepOutcome.FAILED)
        tally.failures.append(GroupFailure(group, reason, len(items)))


def _by_name(name: str, found: Iterable[ResourceState]) -> ResourceState | None:
    """The state a name stands for: a live resource of exactly that name, else a deleted one.

    Exact comparison (docs/matching.md), whatever Config's name filter matched. A live one wins: the
    name is in use again, and an exception is never closed while what it names exists.
    """
    named = [s for s in found if s.resource_name == name]
    return next((s for s in named if not s.deleted), None) or next(iter(named), None)
