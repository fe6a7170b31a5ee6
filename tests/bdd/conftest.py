"""Shared step definitions of the features, grouped Given / When / Then.

Every step talks to the system through the ``wiring`` fixture (see tests/bdd/wiring.py), so
the features run unchanged on every wiring the fixture is parametrized with.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from attrs import define, field
from pytest_bdd import given, parsers, then, when

from application.handle_change import ChangeResult
from domain.events import MAX_RESOURCE_ID_LENGTH
from domain.lifecycle import TIMESTAMP_FORMAT
from domain.outcomes import Outcome
from domain.records import CLOSED_STATUS, ELM_AUTOMATION, Action, ExceptionRecord, RecordKey
from domain.rules import ExceptionFormat, ExceptionType, Rule
from entrypoints.local.sample_events import compliance_change_event, configuration_item_event
from tests.bdd.wiring import WIRINGS, Wiring

# Business names of resource types, singular and plural.
RESOURCE_TYPES = {
    "security group": "AWS::EC2::SecurityGroup",
    "security groups": "AWS::EC2::SecurityGroup",
    "volume": "AWS::EC2::Volume",
    "volumes": "AWS::EC2::Volume",
    "bucket": "AWS::S3::Bucket",
    "buckets": "AWS::S3::Bucket",
    "database": "AWS::RDS::DBInstance",
    "databases": "AWS::RDS::DBInstance",
    "role": "AWS::IAM::Role",
    "roles": "AWS::IAM::Role",
    "function": "AWS::Lambda::Function",
    "functions": "AWS::Lambda::Function",
    "user": "AWS::IAM::User",
    "load balancer": "AWS::ElasticLoadBalancingV2::LoadBalancer",
}

RULE_SHAPES = {
    "one resource by its ID": (ExceptionFormat.RESOURCE_ID, ExceptionType.SIMPLE),
    "one resource by its ARN": (ExceptionFormat.RESOURCE_ARN, ExceptionType.SIMPLE),
    "a group of resources by their IDs": (ExceptionFormat.RESOURCE_ID, ExceptionType.COMPOSITE),
    "a group of resources by their ARNs": (ExceptionFormat.RESOURCE_ARN, ExceptionType.COMPOSITE),
}


def step(template: str) -> Any:
    """A step pattern from a template: ``"{name}"`` captures a quoted text (possibly empty),
    a bare ``{name}`` captures unquoted words."""
    pattern = ""
    for literal, name, _, _ in string.Formatter().parse(template):
        pattern += re.escape(literal)
        if name is not None:
            pattern += f'(?P<{name}>[^"]*)' if literal.endswith('"') else f'(?P<{name}>[^"]+?)'
    return parsers.re(pattern)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _resource_type(kind: str) -> str:
    assert kind in RESOURCE_TYPES, f"unknown kind of resource {kind!r}"
    return RESOURCE_TYPES[kind]


@define
class Scene:
    """What the steps of one scenario remember between them."""

    wiring: Wiring
    rule_ids: dict[str, int] = field(factory=dict)
    retention_days: int = 90
    last_event: dict[str, Any] | None = None
    results: list[ChangeResult] = field(factory=list)
    before: list[ExceptionRecord] = field(factory=list)
    told: list[dict[str, Any]] = field(factory=list)
    """ELM's own events, as the last "ELM announced" step received them."""
    sweep_run: str | None = None
    _event_ids: Iterator[int] = field(factory=lambda: itertools.count(1))

    def rule_id(self, rule: str) -> int:
        assert rule in self.rule_ids, f"the scenario has no rule {rule!r}"
        return self.rule_ids[rule]

    def key(self, account: str, rule: str, key: str) -> RecordKey:
        return RecordKey(account, self.rule_id(rule), key)

    def next_event_id(self) -> str:
        return f"report-{next(self._event_ids)}"

    def deliver(self, body: dict[str, Any] | str) -> ChangeResult:
        """Deliver one message, remembering the table just before it."""
        self.before = self.wiring.records()
        if isinstance(body, dict):
            self.last_event = body
        result = self.wiring.deliver(body)
        self.results.append(result)
        return result

    @property
    def result(self) -> ChangeResult:
        assert self.results, "no report was delivered"
        return self.results[-1]

    def stored(self, account: str, rule: str, key: str) -> ExceptionRecord:
        record = self.wiring.record(self.key(account, rule, key))
        assert record is not None, f"no exception for {key!r} of {account} under {rule!r}"
        return record


@pytest.fixture(params=["memory", pytest.param("aws", marks=pytest.mark.moto)])
def wiring(request: pytest.FixtureRequest) -> Iterator[Wiring]:
    """The system under test, built by the named wiring (see tests/bdd/wiring.py).

    Every scenario runs once per wiring: "memory" (every port on its twin) and "aws" (the
    DynamoDB adapters on moto, marked ``moto``). A new wiring is a class in `WIRINGS` and
    its name here.
    """
    built = WIRINGS[request.param]()
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def scene(wiring: Wiring) -> Scene:
    """The memory of one scenario."""
    return Scene(wiring)


def _report(
    scene: Scene,
    kind: str,
    resource_id: str,
    account: str,
    region: str,
    rule: str,
    **overrides: Any,
) -> dict[str, Any]:
    return compliance_change_event(
        account_id=account,
        region=region,
        rule_name=rule,
        resource_type=_resource_type(kind),
        resource_id=resource_id,
        event_id=scene.next_event_id(),
        **overrides,
    )


# --------------------------------------------------------------------------------- Given


@given(step('the rule "{rule}" whose exceptions name {shape}'))
def a_rule(scene: Scene, rule: str, shape: str) -> None:
    assert shape in RULE_SHAPES, f"unknown rule shape {shape!r}"
    exception_format, exception_type = RULE_SHAPES[shape]
    rule_id = scene.rule_ids.setdefault(rule, len(scene.rule_ids) + 1)
    scene.wiring.add_rule(Rule(rule_id, rule, exception_format, exception_type))


@given(step('the rule "{rule}" over {kinds} whose exceptions name {shape}'))
def a_rule_over_types(scene: Scene, rule: str, kinds: str, shape: str) -> None:
    assert shape in RULE_SHAPES, f"unknown rule shape {shape!r}"
    exception_format, exception_type = RULE_SHAPES[shape]
    rule_id = scene.rule_ids.setdefault(rule, len(scene.rule_ids) + 1)
    types = frozenset(_resource_type(k.strip()) for k in kinds.split(" and "))
    scene.wiring.add_rule(Rule(rule_id, rule, exception_format, exception_type, types))


@given(
    step('account {account} has an exception for "{key}" of a {kind} under "{rule}" in {region}')
)
def an_open_exception_of_a_type(
    scene: Scene, account: str, key: str, kind: str, rule: str, region: str
) -> None:
    scene.wiring.add_exception(
        ExceptionRecord(scene.key(account, rule, key), region, resource_type=_resource_type(kind))
    )


@given(step('account {account} has an exception for "{key}" under "{rule}" in {region}'))
def an_open_exception(scene: Scene, account: str, key: str, rule: str, region: str) -> None:
    scene.wiring.add_exception(ExceptionRecord(scene.key(account, rule, key), region))


@given(step('account {account} has a closed exception for "{key}" under "{rule}" in {region}'))
def a_closed_exception(scene: Scene, account: str, key: str, rule: str, region: str) -> None:
    scene.wiring.add_exception(
        ExceptionRecord(scene.key(account, rule, key), region, status=CLOSED_STATUS, ttl=1)
    )


def _inventory(
    scene: Scene, kind: str, ids: str, account: str, region: str, state: str, name: str | None
) -> None:
    assert state in ("deleted", "still existing", "unknown"), f"unknown state {state!r}"
    if state == "unknown":
        return
    for resource_id in _list(ids):
        scene.wiring.config_reports(
            account,
            region,
            _resource_type(kind),
            resource_id,
            name=name,
            deleted=state == "deleted",
        )


@given(step('the inventory shows the {kind} "{ids}" of account {account} in {region} as {state}'))
def the_inventory_shows(
    scene: Scene, kind: str, ids: str, account: str, region: str, state: str
) -> None:
    _inventory(scene, kind, ids, account, region, state, None)


@given(
    step(
        'the inventory shows the {kind} "{ids}" named "{name}" of account {account} '
        "in {region} as {state}"
    )
)
def the_inventory_shows_named(
    scene: Scene, kind: str, ids: str, name: str, account: str, region: str, state: str
) -> None:
    _inventory(scene, kind, ids, account, region, state, name)


@given("the inventory cannot be reached")
def the_inventory_fails(scene: Scene) -> None:
    scene.wiring.config_fails("the inventory cannot be reached")


@given(step('only accounts "{accounts}" may send reports'))
def an_allow_list(scene: Scene, accounts: str) -> None:
    scene.wiring.set_policy(allowed_accounts=frozenset(_list(accounts)))


@given(step('this environment\'s rule prefix is "{prefix}"'))
def a_rule_prefix(scene: Scene, prefix: str) -> None:
    scene.wiring.set_policy(rule_prefix=prefix)


@given("the dry run is on")
def a_dry_run(scene: Scene) -> None:
    scene.wiring.set_policy(dry_run=True)


@given(step("closed exceptions are kept for {days} days"))
def a_retention(scene: Scene, days: str) -> None:
    scene.retention_days = int(days)
    scene.wiring.set_policy(retention_days=int(days))


# ---------------------------------------------------------------------------------- When


@when(
    step(
        'the deletion of the {kind} "{resource}" in account {account}, {region} '
        'is reported for "{rule}"'
    )
)
def a_deletion_is_reported(
    scene: Scene, kind: str, resource: str, account: str, region: str, rule: str
) -> None:
    scene.deliver(_report(scene, kind, resource, account, region, rule))


@when(
    step(
        'the deletion of the {kind} "{resource}" in account {account}, {region} is reported '
        'for "{rule}" by account {sender} from {sender_region}'
    )
)
def a_deletion_is_reported_by(
    scene: Scene,
    kind: str,
    resource: str,
    account: str,
    region: str,
    rule: str,
    sender: str,
    sender_region: str,
) -> None:
    report = _report(scene, kind, resource, account, region, rule)
    report["account"], report["region"] = sender, sender_region
    scene.deliver(report)


def _record_of(
    scene: Scene,
    kind: str,
    resource: str,
    account: str,
    region: str,
    *,
    name: str | None = None,
    arn: str | None = None,
    status: str = "ResourceDeleted",
) -> dict[str, Any]:
    """The inventory's own record of a change to one resource (it names no rule)."""
    return configuration_item_event(
        account_id=account,
        region=region,
        resource_type=_resource_type(kind),
        resource_id=resource,
        resource_name=name,
        arn=arn,
        status=status,
        change_type="DELETE" if status.startswith("ResourceDeleted") else "UPDATE",
        event_id=scene.next_event_id(),
    )


@when(
    step(
        'the inventory records the deletion of the {kind} "{resource}" '
        "in account {account}, {region}"
    )
)
def the_inventory_records_a_deletion(
    scene: Scene, kind: str, resource: str, account: str, region: str
) -> None:
    scene.deliver(_record_of(scene, kind, resource, account, region))


@when(
    step(
        'the inventory records the deletion of the {kind} "{resource}" named "{name}" '
        "in account {account}, {region}"
    )
)
def the_inventory_records_a_named_deletion(
    scene: Scene, kind: str, resource: str, name: str, account: str, region: str
) -> None:
    scene.deliver(_record_of(scene, kind, resource, account, region, name=name))


@when(
    step(
        'the inventory records the deletion of the {kind} "{resource}" named "{name}" '
        'with ARN "{arn}" in account {account}, {region}'
    )
)
def the_inventory_records_a_deletion_with_arn(
    scene: Scene, kind: str, resource: str, name: str, arn: str, account: str, region: str
) -> None:
    scene.deliver(_record_of(scene, kind, resource, account, region, name=name, arn=arn))


@when(
    step(
        'the inventory records the {kind} "{resource}" in account {account}, {region} '
        'with the status "{status}"'
    )
)
def the_inventory_records_a_status(
    scene: Scene, kind: str, resource: str, account: str, region: str, status: str
) -> None:
    scene.deliver(_record_of(scene, kind, resource, account, region, status=status))


@when(
    step(
        'the inventory records the deletion of the {kind} "{resource}" in account {account}, '
        "{region}, sent by account {sender}"
    )
)
def the_inventory_records_a_deletion_sent_by(
    scene: Scene, kind: str, resource: str, account: str, region: str, sender: str
) -> None:
    record = _record_of(scene, kind, resource, account, region)
    record["account"] = sender
    scene.deliver(record)


@when("the sweep runs")
def the_sweep_runs(scene: Scene) -> None:
    report = scene.wiring.sweep()
    scene.sweep_run = report.run_id


@when("the same report is delivered again")
def the_same_report_again(scene: Scene) -> None:
    assert scene.last_event is not None, "no report was delivered before"
    scene.deliver(scene.last_event)


@when(
    step(
        'the {kind} "{ids}" are deleted one by one in account {account}, {region} '
        'and each deletion is reported for "{rule}"'
    )
)
def deletions_one_by_one(
    scene: Scene, kind: str, ids: str, account: str, region: str, rule: str
) -> None:
    for resource_id in _list(ids):
        scene.wiring.config_reports(account, region, _resource_type(kind), resource_id)
        scene.deliver(_report(scene, kind, resource_id, account, region, rule))


def _absent(value: str) -> str | None:
    return None if value == "-" else value


@when(
    step(
        'a report of the {kind} "{resource}" in account {account}, {region} for "{rule}" '
        'says it went from "{before}" noted "{before_note}" to "{after}" noted "{after_note}"'
    )
)
def a_change_is_reported(
    scene: Scene,
    kind: str,
    resource: str,
    account: str,
    region: str,
    rule: str,
    before: str,
    before_note: str,
    after: str,
    after_note: str,
) -> None:
    report = _report(
        scene,
        kind,
        resource,
        account,
        region,
        rule,
        old_compliance=_absent(before),
        old_annotation=_absent(before_note),
        new_compliance=after,
        new_annotation=_absent(after_note),
    )
    scene.deliver(report)


def _defective(scene: Scene, defect: str) -> dict[str, Any] | str:
    report = _report(
        scene, "security group", "sg-0abc123", "111122223333", "eu-west-1", "sg-no-open-ingress"
    )
    detail = report["detail"]
    damage: dict[str, Callable[[], None]] = {
        "without the resource": lambda: detail.pop("resourceId"),
        "without the account": lambda: detail.pop("awsAccountId"),
        "whose account is not 12 digits": lambda: detail.update(awsAccountId="1234"),
        "whose region is not a region name": lambda: detail.update(awsRegion="Ireland"),
        "whose resource ID is empty": lambda: detail.update(resourceId=""),
        "whose resource ID is too long": lambda: detail.update(
            resourceId="x" * (MAX_RESOURCE_ID_LENGTH + 1)
        ),
        "whose resource ID holds a line break": lambda: detail.update(resourceId="sg-1\nforged"),
        "whose details are not an object": lambda: report.update(detail="deleted"),
    }
    if defect == "that is not JSON":
        return "resource sg-0abc123 was deleted"
    assert defect in damage, f"unknown defect {defect!r}"
    damage[defect]()
    return report


@when(step("a report arrives {defect}"))
def a_defective_report(scene: Scene, defect: str) -> None:
    scene.deliver(_defective(scene, defect))


# ---------------------------------------------------------------------------------- Then


@then(step('the outcome is "{outcome}"'))
def the_outcome_is(scene: Scene, outcome: str) -> None:
    assert scene.result.outcome is Outcome(outcome), scene.result.reason


@then(step('the outcomes are "{outcomes}"'))
def the_outcomes_are(scene: Scene, outcomes: str) -> None:
    assert [r.outcome.value for r in scene.results] == _list(outcomes), [
        r.reason for r in scene.results
    ]


@then(step('the reason names "{text}"'))
def the_reason_names(scene: Scene, text: str) -> None:
    assert text in scene.result.reason, scene.result.reason
    assert "\n" not in scene.result.reason


@then(step('the exception for "{key}" of account {account} under "{rule}" is {state}'))
def the_exception_is(scene: Scene, key: str, account: str, rule: str, state: str) -> None:
    record = scene.stored(account, rule, key)
    assert state in ("closed", "still open"), f"unknown state {state!r}"
    if state == "still open":
        assert not record.is_closed
        assert record.ttl is None
        return
    now = scene.wiring.now()
    assert record.status == CLOSED_STATUS
    assert record.last_modified_by == ELM_AUTOMATION
    assert record.update_timestamp == now.strftime(TIMESTAMP_FORMAT)
    assert record.ttl == int((now + timedelta(days=scene.retention_days)).timestamp())
    assert record.history, "a closed exception has a history"
    assert record.history[-1].action is Action.CLOSED


@then(
    step(
        'the exception for "{key}" of account {account} under "{rule}" '
        "stays in the table {days} days after it was closed"
    )
)
def the_exception_is_kept(scene: Scene, key: str, account: str, rule: str, days: str) -> None:
    record = scene.stored(account, rule, key)
    closed_at = scene.wiring.now()
    assert record.ttl == int((closed_at + timedelta(days=int(days))).timestamp())


@then(
    step(
        'the exception for "{key}" of account {account} under "{rule}" '
        'has "{members}" recorded as deleted'
    )
)
def the_members_recorded(scene: Scene, key: str, account: str, rule: str, members: str) -> None:
    assert scene.stored(account, rule, key).deleted_members == frozenset(_list(members))


@then(
    step(
        'the history of the exception for "{key}" of account {account} under "{rule}" '
        "names the report that closed it"
    )
)
def the_history_names_the_report(scene: Scene, key: str, account: str, rule: str) -> None:
    history = scene.stored(account, rule, key).history
    assert scene.last_event is not None
    assert history[-1].action is Action.CLOSED
    assert history[-1].event_id == scene.last_event["id"]
    assert history[-1].at == scene.wiring.now()
    assert len({e.identity for e in history}) == len(history)


@then(step('the exception for "{key}" of account {account} under "{rule}" records no kind'))
def the_exception_has_no_type(scene: Scene, key: str, account: str, rule: str) -> None:
    assert scene.stored(account, rule, key).resource_type is None


@then(step('the exception for "{key}" of account {account} under "{rule}" records the kind {kind}'))
def the_exception_has_type(scene: Scene, key: str, account: str, rule: str, kind: str) -> None:
    assert scene.stored(account, rule, key).resource_type == _resource_type(kind)


@then(step('ELM announced exactly "{kinds}"'))
def elm_announced(scene: Scene, kinds: str) -> None:
    scene.told = scene.wiring.told()
    assert [e["detail-type"] for e in scene.told] == _list(kinds), scene.told
    assert {e["source"] for e in scene.told} == {"elm"}
    assert {e["detail"]["version"] for e in scene.told} == {"1"}


@then("ELM announced nothing")
def elm_announced_nothing(scene: Scene) -> None:
    assert scene.wiring.told() == []


def _announcement(scene: Scene, kind: str) -> dict[str, Any]:
    found = [e["detail"] for e in scene.told if e["detail-type"] == kind]
    assert len(found) == 1, f"{len(found)} {kind!r} announcements in {scene.told}"
    detail: dict[str, Any] = found[0]
    return detail


@then(
    step(
        'the "{kind}" announcement names the exception "{key}" of account {account} under '
        '"{rule}" and the report that closed it'
    )
)
def the_announcement_names_the_exception(
    scene: Scene, kind: str, key: str, account: str, rule: str
) -> None:
    detail = _announcement(scene, kind)
    record_key = scene.key(account, rule, key)
    assert detail["exceptionKey"] == {
        "AccountId_RuleId": record_key.partition_key,
        "Exception": key,
    }
    assert (detail["accountId"], detail["ruleId"], detail["ruleName"]) == (
        account,
        record_key.rule_id,
        rule,
    )
    closing = [r for r in scene.results if r.outcome is Outcome.CLOSED]
    assert len(closing) == 1, [r.outcome for r in scene.results]
    assert detail["eventId"] == closing[0].event_id is not None
    assert detail["sweepRun"] is None


@then(step('the "{kind}" announcement names the members "{members}"'))
def the_announcement_names_members(scene: Scene, kind: str, members: str) -> None:
    assert _announcement(scene, kind)["members"] == _list(members)


@then(step('the "{kind}" announcement names the sweep run'))
def the_announcement_names_the_sweep(scene: Scene, kind: str) -> None:
    detail = _announcement(scene, kind)
    assert scene.sweep_run is not None
    assert (detail["sweepRun"], detail["eventId"]) == (scene.sweep_run, None)


@then(
    step(
        'the "Reconciliation Finished" announcement counts {count} "{outcome}" and '
        "{scanned} records scanned"
    )
)
def the_finished_announcement_counts(scene: Scene, count: str, outcome: str, scanned: str) -> None:
    detail = _announcement(scene, "Reconciliation Finished")
    assert detail["sweepRun"] == scene.sweep_run
    assert detail["complete"] is True
    assert detail["outcomes"].get(outcome) == int(count), detail["outcomes"]
    assert detail["recordsScanned"] == int(scanned)


@then("the exception table is unchanged")
def the_table_is_unchanged(scene: Scene) -> None:
    assert scene.wiring.records() == scene.before


@then("the message is retried later")
def the_message_is_retried(scene: Scene) -> None:
    assert scene.result.outcome.fails_record


@then("the message is done with")
def the_message_is_done_with(scene: Scene) -> None:
    assert not scene.result.outcome.fails_record
