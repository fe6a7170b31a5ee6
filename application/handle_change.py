"""The use case: carry one deletion signal through the decision flow, steps 1 to 7.

Either signal: a compliance-change event names its rule; a configuration item change names
none, so its rules are those whose `ResourceTypes` include the resource's type, and each
rule's partition is read and decided in turn. The writes are conditional on the record's
state (open; member not yet recorded), so whichever signal of one deletion comes second
finds nothing left to do: `duplicate`, in either order and under any interleaving.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import evolve, field, frozen, validators

from application.conditional_write import write_decision
from application.errors import RecordFormatError, TransientError
from application.ports import Clock, ExceptionStore, ResourceInventory, ResourceState, RuleCatalog
from domain.deletion import is_configuration_item_deletion, is_deletion_event
from domain.events import (
    ComplianceChange,
    ConfigurationItemChange,
    DeletionSignal,
    InvalidEvent,
    parse_event,
)
from domain.lifecycle import Duplicate, RecordUpdate, Trigger, decide
from domain.matching import (
    NamesakeAsk,
    ResourceIdentity,
    is_live_namesake,
    key_matches,
    namesake_asks,
    type_matches,
)
from domain.outcomes import Outcome
from domain.records import ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionKind, Rule

__all__ = ["ChangeResult", "HandleComplianceChange", "LookupRequest", "Policy", "RecordResult"]

# The event's outcome is the strongest of its records'; NO_MATCH comes last, when every
# matched record vanished between the read and the write.
_OUTCOME_RANK = (Outcome.CLOSED, Outcome.MEMBER_DELETED, Outcome.DUPLICATE, Outcome.NO_MATCH)
# A configuration item change decided under several rules: the strongest of the rules'
# outcomes. A resource AWS Config still reports outranks a duplicate elsewhere.
_RULES_RANK = (
    Outcome.CLOSED,
    Outcome.MEMBER_DELETED,
    Outcome.NOT_CONFIRMED,
    Outcome.DUPLICATE,
    Outcome.NO_MATCH,
)


@frozen
class Policy:
    """The settings that shape decisions (docs/behaviour.md)."""

    rule_prefix: str = ""
    allowed_accounts: frozenset[str] | None = None
    retention_days: int = field(default=90, validator=validators.ge(1))
    dry_run: bool = False
    max_write_attempts: int = field(default=5, validator=validators.ge(1))


@frozen
class LookupRequest:
    """Resource IDs of one account, region and type to ask AWS Config about."""

    account_id: str
    region: str
    resource_type: str
    resource_ids: tuple[str, ...]


@frozen
class RecordResult:
    """What happened to one matched exception record."""

    record_key: RecordKey
    outcome: Outcome
    members: tuple[str, ...] = ()


@frozen
class ChangeResult:
    """The outcome of one event, with what a log line needs to tell what happened."""

    outcome: Outcome
    reason: str
    event_id: str | None = None
    account_id: str | None = None
    region: str | None = None
    rule_name: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    records: tuple[RecordResult, ...] = ()
    dry_run: bool = False
    signal: str | None = None
    """Which signal the event was: ``compliance-change`` or ``configuration-item``."""

    @classmethod
    def about(
        cls,
        change: DeletionSignal,
        outcome: Outcome,
        reason: str,
        records: tuple[RecordResult, ...] = (),
        *,
        dry_run: bool = False,
        rule_name: str | None = None,
    ) -> ChangeResult:
        return cls(
            outcome=outcome,
            reason=reason,
            event_id=change.event_id,
            account_id=change.account_id,
            region=change.region,
            rule_name=change.rule_name or rule_name,
            resource_type=change.resource_type,
            resource_id=change.resource_id,
            records=records,
            dry_run=dry_run,
            signal=change.signal,
        )


@frozen
class HandleComplianceChange:
    """Decide and apply what one event means for the exception table."""

    rules: RuleCatalog
    store: ExceptionStore
    inventory: ResourceInventory
    clock: Clock
    policy: Policy = field(factory=Policy)

    def execute(self, body: str | Mapping[str, Any]) -> ChangeResult:
        """The outcome of one event (an SQS body or a decoded EventBridge event)."""
        change = self._screen(body)
        if isinstance(change, ChangeResult):
            return change
        try:
            return self._handle(change)
        except TransientError as error:
            return ChangeResult.about(change, Outcome.FAILED, f"transient error: {error}")
        except RecordFormatError as error:
            return ChangeResult.about(change, Outcome.FAILED, f"unreadable item: {error}")

    def first_lookup(self, body: str | Mapping[str, Any]) -> LookupRequest | None:
        """The AWS Config lookup that handling ``body`` would start with, or None.

        None when the event would not reach AWS Config: invalid, ignored or rejected (so a
        forged event never leads to a role being assumed), no exception could match, or
        the tables cannot be read now (its own handling then fails on its own). Lets a
        batch ask Config about all its events' resources at once.
        """
        change = self._screen(body)
        if isinstance(change, ChangeResult):
            return None
        ids: dict[str, None] = {}
        try:
            for rule in self._rules_for(change):
                in_region, _exact = self._candidates(change, rule)
                ids.update(dict.fromkeys(_first_ask(in_region, rule, change)))
        except (TransientError, RecordFormatError):
            return None
        if not ids:
            return None
        return LookupRequest(change.account_id, change.region, change.resource_type, tuple(ids))

    def _rules_for(self, change: DeletionSignal) -> list[Rule]:
        """The rules whose exceptions the event may close (step 4)."""
        if isinstance(change, ConfigurationItemChange):
            return self._item_rules(change)
        rule = self.rules.find_by_name(change.rule_name)
        return [] if rule is None else [rule]

    def _item_rules(self, change: ConfigurationItemChange) -> list[Rule]:
        """The environment's rules whose `ResourceTypes` include the resource's type."""
        prefix = self.policy.rule_prefix
        return [
            rule
            for rule in self.rules.find_by_resource_type(change.resource_type)
            if rule.name.startswith(prefix)
        ]

    def _screen(self, body: str | Mapping[str, Any]) -> DeletionSignal | ChangeResult:
        """Steps 1 to 3: the parsed event, or its outcome when it goes no further."""
        try:
            document = json.loads(body) if isinstance(body, str) else body
        except (json.JSONDecodeError, RecursionError) as error:
            return ChangeResult(Outcome.INVALID, f"body is not JSON: {error}")
        try:
            change = parse_event(document)
        except InvalidEvent as error:
            event_id = document.get("id") if isinstance(document, Mapping) else None
            return ChangeResult(
                Outcome.INVALID, str(error), event_id if isinstance(event_id, str) else None
            )
        if isinstance(change, ConfigurationItemChange):
            if not is_configuration_item_deletion(document):
                return ChangeResult.about(
                    change,
                    Outcome.IGNORED,
                    f"configuration item status {change.status!r} is not a deletion",
                )
        elif not is_deletion_event(document, self.policy.rule_prefix):
            return ChangeResult.about(change, Outcome.IGNORED, "not a deletion event")
        rejection = self._authenticity(change)
        if rejection:
            return ChangeResult.about(change, Outcome.REJECTED, rejection)
        return change

    def _in_region(self, change: DeletionSignal, rule: Rule) -> list[ExceptionRecord]:
        """The rule's records in the event's region whose type admits the resource's (§5)."""
        return [
            r
            for r in self.store.list_for(change.account_id, rule.rule_id)
            if _admits(r, rule, change)
        ]

    def _candidates(self, change: DeletionSignal, rule: Rule) -> tuple[list[ExceptionRecord], bool]:
        """The records the event may close, and whether they were read by exact key.

        A simple Resource-ID rule's key is the resource's ID or its name, both exact: when
        the record under the event's ID is open in the event's region, that GetItem is the
        read, and the record under the name (known only once AWS Config answers) is read by
        key too (`_named_record`). Otherwise, the key may hold what only the partition
        Query finds (a name, when the ID's record is missing or closed; an ARN; a composite
        member), and the Query is the read. Either way, the records go through the same
        region, status and matching checks.

        A configuration item names the resource exactly: a simple Resource-ID rule's
        candidates are the records under its ID and its name, two GetItems and no Query; a
        simple Resource-ARN rule's record under the recorded ARN, when open, is read by key.
        """
        if isinstance(change, ConfigurationItemChange):
            return self._item_candidates(change, rule)
        if rule.kind is ExceptionKind.SIMPLE_ID:
            record = self.store.get(RecordKey(change.account_id, rule.rule_id, change.resource_id))
            if record is not None and _admits(record, rule, change) and not record.is_closed:
                return [record], True
        return self._in_region(change, rule), False

    def _item_candidates(
        self, change: ConfigurationItemChange, rule: Rule
    ) -> tuple[list[ExceptionRecord], bool]:
        """`_candidates` for a configuration item (name and ARN known)."""
        if rule.kind is ExceptionKind.SIMPLE_ID:
            keys = dict.fromkeys(k for k in (change.resource_id, change.resource_name) if k)
            found = [self.store.get(RecordKey(change.account_id, rule.rule_id, k)) for k in keys]
            return [r for r in found if r is not None and _admits(r, rule, change)], True
        if rule.kind is ExceptionKind.SIMPLE_ARN and change.arn:
            record = self.store.get(RecordKey(change.account_id, rule.rule_id, change.arn))
            if record is not None and _admits(record, rule, change) and not record.is_closed:
                return [record], True
        return self._in_region(change, rule), False

    def _named_record(
        self, change: ComplianceChange, rule: Rule, state: ResourceState | None
    ) -> list[ExceptionRecord]:
        """The record keyed by the resource's name, in the event's region (exact-key read)."""
        if state is None or not state.resource_name or state.resource_name == change.resource_id:
            return []
        record = self.store.get(RecordKey(change.account_id, rule.rule_id, state.resource_name))
        return [record] if record is not None and _admits(record, rule, change) else []

    def _authenticity(self, change: DeletionSignal) -> str | None:
        where = "detail"
        if isinstance(change, ConfigurationItemChange):
            where += ".configurationItemSummary" if change.oversized else ".configurationItem"
        if change.envelope_account is not None and change.envelope_account != change.account_id:
            return (
                f"envelope account {change.envelope_account!r} disagrees with "
                f"{where}.awsAccountId {change.account_id!r}"
            )
        if change.envelope_region is not None and change.envelope_region != change.region:
            return (
                f"envelope region {change.envelope_region!r} disagrees with "
                f"{where}.awsRegion {change.region!r}"
            )
        allowed = self.policy.allowed_accounts
        if allowed is not None and change.account_id not in allowed:
            return f"account {change.account_id} is not in ELM_ALLOWED_ACCOUNTS"
        return None

    def _handle(self, change: DeletionSignal) -> ChangeResult:
        if isinstance(change, ConfigurationItemChange):
            return self._handle_item(change)
        rule = self.rules.find_by_name(change.rule_name)
        if rule is None:
            return ChangeResult.about(change, Outcome.IGNORED, "rule not in the rules table")
        return self._handle_rule(change, rule)

    def _handle_item(self, change: ConfigurationItemChange) -> ChangeResult:
        """A configuration item change: decided under each rule covering its type.

        One AWS Config answer serves every rule (`_EventInventory`), and a transient error
        under any rule fails the whole event: its retry finds what was already written
        closed or recorded, so nothing is applied twice.
        """
        rules = self._item_rules(change)
        if not rules:
            return ChangeResult.about(
                change,
                Outcome.NO_MATCH,
                f"no rule lists {change.resource_type} in its ResourceTypes",
            )
        handler = evolve(self, inventory=_EventInventory(self.inventory))
        results = [(rule, handler._handle_rule(change, rule)) for rule in rules]
        outcome = next(o for o in _RULES_RANK if any(r.outcome is o for _, r in results))
        if outcome is Outcome.NO_MATCH:
            return ChangeResult.about(
                change,
                outcome,
                f"no exception names the resource under {len(rules)} rule(s) covering "
                f"{change.resource_type}",
            )
        decided = [(rule, r) for rule, r in results if r.outcome is not Outcome.NO_MATCH]
        return ChangeResult.about(
            change,
            outcome,
            decided[0][1].reason
            if len(decided) == 1
            else "; ".join(f"{rule.name}: {r.reason}" for rule, r in decided),
            tuple(record for _, r in decided for record in r.records),
            dry_run=any(r.dry_run for _, r in decided),
            rule_name=",".join(rule.name for rule, _ in decided),
        )

    def _handle_rule(self, change: DeletionSignal, rule: Rule) -> ChangeResult:
        """Steps 5 to 7 for one rule's partition."""
        in_region, exact = self._candidates(change, rule)
        if not in_region:
            return ChangeResult.about(
                change, Outcome.NO_MATCH, "no exception for this account, rule and region"
            )
        identity = _identity(change)
        states: dict[str, ResourceState] = {}
        matched = _matching(in_region, rule, identity, change)
        # A configuration item names the resource: no Config answer is needed for its name.
        name_unknown = isinstance(change, ComplianceChange)
        if exact and isinstance(change, ComplianceChange):
            # The open record under the ID needs AWS Config's answer anyway; that answer
            # names the resource, and the record under its name is read by key as well.
            states.update(self._lookup(change, [change.resource_id]))
            state = states.get(change.resource_id)
            named = self._named_record(change, rule, state)
            if named and state is not None:
                in_region = [*in_region, *named]
                identity = ResourceIdentity(
                    change.resource_type, change.resource_id, state.resource_name
                )
                matched = _matching(in_region, rule, identity, change)
        elif name_unknown and _needs_name(in_region, matched):
            # A key may hold the resource's name, which only AWS Config can tell. The same
            # call confirms the resource and the companions of what matched by ID, below.
            states.update(self._lookup(change, _first_ask(in_region, rule, change)))
            state = states.get(change.resource_id)
            if state is not None and state.resource_name:
                identity = ResourceIdentity(
                    change.resource_type, change.resource_id, state.resource_name
                )
                matched = _matching(in_region, rule, identity, change)
        if not matched:
            return ChangeResult.about(change, Outcome.NO_MATCH, "no exception names the resource")
        pending = [r for r in matched if _has_open_match(r, rule, identity, change)]
        if not pending:
            duplicates = tuple(RecordResult(r.record_key, Outcome.DUPLICATE) for r in matched)
            return ChangeResult.about(
                change, Outcome.DUPLICATE, "already closed or recorded", duplicates
            )
        wanted = [change.resource_id, *_companions(pending, rule, identity, change)]
        missing = [i for i in dict.fromkeys(wanted) if i not in states]
        if missing:
            states.update(self._lookup(change, missing))
        state = states.get(change.resource_id)
        if state is None:
            return ChangeResult.about(
                change, Outcome.NOT_CONFIRMED, "AWS Config does not report the resource"
            )
        if not state.deleted:
            return ChangeResult.about(
                change, Outcome.NOT_CONFIRMED, "AWS Config reports the resource still exists"
            )
        namesakes = {r.record_key: self._namesake(change, rule, r, identity) for r in pending}
        cleared = [r for r in pending if namesakes[r.record_key] is None]
        if not cleared:
            found = "; ".join(sorted({n for n in namesakes.values() if n is not None}))
            return ChangeResult.about(
                change,
                Outcome.NOT_CONFIRMED,
                f"a live resource may be what the exception names: {found}",
            )
        results = tuple(self._close(change, rule, record, identity, states) for record in cleared)
        outcome = next(o for o in _OUTCOME_RANK if any(r.outcome is o for r in results))
        if outcome is Outcome.NO_MATCH:
            return ChangeResult.about(
                change, outcome, "the matching exception was removed before the write", results
            )
        verb = "would be" if self.policy.dry_run else "was"
        return ChangeResult.about(
            change,
            outcome,
            f"deletion confirmed by AWS Config; exception {verb} {outcome.value}",
            results,
            dry_run=self.policy.dry_run,
        )

    def _namesake(
        self,
        change: DeletionSignal,
        rule: Rule,
        record: ExceptionRecord,
        identity: ResourceIdentity,
    ) -> str | None:
        """A live resource AWS Config reports that a matched key may name instead, or None."""
        for key in _keys_of(record, rule):
            if not _names(key, rule, identity, change):
                continue
            asks = namesake_asks(
                key,
                rule.exception_format,
                identity,
                record_type=record.resource_type,
                rule_types=rule.resource_types,
            )
            for ask in asks:
                for state in self._ask(change, ask):
                    if is_live_namesake(
                        ask,
                        identity,
                        found_type=state.resource_type,
                        found_id=state.resource_id,
                        found_name=state.resource_name,
                        deleted=state.deleted,
                    ):
                        named = f" named {state.resource_name!r}" if state.resource_name else ""
                        return (
                            f"key {key!r}: live {state.resource_type} {state.resource_id!r}{named}"
                        )
        return None

    def _ask(self, change: DeletionSignal, ask: NamesakeAsk) -> Sequence[ResourceState]:
        if ask.by_name:
            return self.inventory.lookup_by_name(
                change.account_id, change.region, ask.resource_type, ask.value
            )
        found = self.inventory.lookup(
            change.account_id, change.region, ask.resource_type, [ask.value]
        )
        return list(found.values())

    def _lookup(self, change: DeletionSignal, ids: Sequence[str]) -> Mapping[str, ResourceState]:
        return self.inventory.lookup(change.account_id, change.region, change.resource_type, ids)

    def _close(
        self,
        change: DeletionSignal,
        rule: Rule,
        record: ExceptionRecord,
        identity: ResourceIdentity,
        states: Mapping[str, ResourceState],
    ) -> RecordResult:
        trigger = Trigger(change.event_id)

        def decider(current: ExceptionRecord) -> RecordUpdate | Duplicate:
            return decide(
                current,
                rule.kind,
                _confirmed(current, rule, identity, change, states),
                trigger=trigger,
                now=self.clock.now(),
                retention_days=self.policy.retention_days,
                resource_type=change.resource_type,
                rule_types=rule.resource_types,
            )

        decision = write_decision(
            self.store,
            record,
            decider,
            max_attempts=self.policy.max_write_attempts,
            dry_run=self.policy.dry_run,
        )
        if decision is None:
            return RecordResult(record.record_key, Outcome.NO_MATCH)
        if isinstance(decision, Duplicate):
            return RecordResult(record.record_key, Outcome.DUPLICATE)
        return _result(decision)


def _needs_name(in_region: Sequence[ExceptionRecord], matched: Sequence[ExceptionRecord]) -> bool:
    """Whether an open record the ID does not name may name the resource by its name."""
    return any(not r.is_closed and r not in matched for r in in_region)


def _first_ask(
    in_region: Sequence[ExceptionRecord], rule: Rule, change: DeletionSignal
) -> list[str]:
    """The IDs of the event's first Config call: its resource and the companions of what
    matched by ID (by ID or name, for a configuration item); empty when the event makes no
    Config call."""
    identity = _identity(change)
    matched = _matching(in_region, rule, identity, change)
    pending = [r for r in matched if _has_open_match(r, rule, identity, change)]
    name_unknown = not isinstance(change, ConfigurationItemChange)
    if not pending and not (name_unknown and _needs_name(in_region, matched)):
        return []
    return list(dict.fromkeys([change.resource_id, *_companions(pending, rule, identity, change)]))


def _identity(change: DeletionSignal) -> ResourceIdentity:
    """What the event says of the resource: a configuration item also gives name and ARN."""
    if isinstance(change, ConfigurationItemChange):
        return ResourceIdentity(
            change.resource_type, change.resource_id, change.resource_name, change.arn
        )
    return ResourceIdentity(change.resource_type, change.resource_id)


class _EventInventory:
    """`ResourceInventory` for one event decided under several rules: each ID asked once.

    Answers are remembered, not-reported IDs included, so the second rule's decision reuses
    the first rule's Config call. Made per event and dropped with it.
    """

    def __init__(self, inner: ResourceInventory) -> None:
        self._inner = inner
        self._known: dict[tuple[str, str, str, str], ResourceState | None] = {}
        self._by_name: dict[tuple[str, str, str, str], Sequence[ResourceState]] = {}

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        group = (account_id, region, resource_type)
        missing = [i for i in dict.fromkeys(resource_ids) if (*group, i) not in self._known]
        if missing:
            found = self._inner.lookup(account_id, region, resource_type, missing)
            self._known.update({(*group, i): found.get(i) for i in missing})
        return {
            i: state for i in resource_ids if (state := self._known.get((*group, i))) is not None
        }

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        key = (account_id, region, resource_type, resource_name)
        if key not in self._by_name:
            self._by_name[key] = self._inner.lookup_by_name(*key)
        return self._by_name[key]


def _result(update: RecordUpdate) -> RecordResult:
    return RecordResult(update.record_key, update.outcome, tuple(sorted(update.members_added)))


def _admits(record: ExceptionRecord, rule: Rule, change: DeletionSignal) -> bool:
    """The record is in the event's region and its type admits the resource's (§5).

    Every read of candidates goes through this, whether by partition Query or by exact key.
    """
    return record.region == change.region and type_matches(
        record.resource_type, rule.resource_types, change.resource_type
    )


def _keys_of(record: ExceptionRecord, rule: Rule) -> tuple[str, ...]:
    return record.members() if rule.kind is ExceptionKind.COMPOSITE else (record.key,)


def _names(key: str, rule: Rule, identity: ResourceIdentity, change: DeletionSignal) -> bool:
    return key_matches(
        key, rule.exception_format, identity, account_id=change.account_id, region=change.region
    )


def _matching(
    records: Sequence[ExceptionRecord],
    rule: Rule,
    identity: ResourceIdentity,
    change: DeletionSignal,
) -> list[ExceptionRecord]:
    return [r for r in records if any(_names(k, rule, identity, change) for k in _keys_of(r, rule))]


def _has_open_match(
    record: ExceptionRecord, rule: Rule, identity: ResourceIdentity, change: DeletionSignal
) -> bool:
    if record.is_closed:
        return False
    if rule.kind is not ExceptionKind.COMPOSITE:
        return True
    return any(_names(m, rule, identity, change) for m in record.open_members())


def _companions(
    records: Sequence[ExceptionRecord],
    rule: Rule,
    identity: ResourceIdentity,
    change: DeletionSignal,
) -> list[str]:
    """Other open members of matched composites that the same Config call can confirm."""
    if not _companions_askable(rule):
        return []
    return [m for r in records for m in r.open_members() if not _names(m, rule, identity, change)]


def _companions_askable(rule: Rule) -> bool:
    """Composite members given by resource ID can be confirmed in the event's Config call."""
    return (
        rule.kind is ExceptionKind.COMPOSITE
        and rule.exception_format is ExceptionFormat.RESOURCE_ID
    )


def _confirmed(
    record: ExceptionRecord,
    rule: Rule,
    identity: ResourceIdentity,
    change: DeletionSignal,
    states: Mapping[str, ResourceState],
) -> frozenset[str]:
    """The record's keys or members confirmed deleted."""
    confirmed = {k for k in _keys_of(record, rule) if _names(k, rule, identity, change)}
    if (
        rule.kind is ExceptionKind.COMPOSITE
        and rule.exception_format is ExceptionFormat.RESOURCE_ID
    ):
        confirmed |= {m for m in record.members() if m in states and states[m].deleted}
    return frozenset(confirmed)
