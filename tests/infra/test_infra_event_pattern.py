"""The templates' EventPattern and domain.deletion are one definition of a deletion event.

Both rules of each signal (the target accounts' forwarding rule and the production rule)
are resolved per environment and compared with ``deletion_pattern(prefix)`` (the
compliance change) or ``configuration_item_pattern()`` (AWS Config's record of a deleted
resource) structurally, then judged on a corpus of events: moto's EventBridge matcher for
the template side, ``is_deletion_event`` / ``is_configuration_item_deletion`` for the code
side. cfn-lint does not look inside an EventPattern and moto accepts
misspelled operators, so the operators are checked against EventBridge's own list here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfn_templates import (
    ENVIRONMENT_PREFIXES,
    SEND_EVENTS,
    STATUS_UPDATE,
    SWEEP_REFS,
    load_template,
    resolve,
)
from moto.events.models import EventPattern

from domain.deletion import (
    DELETED_ANNOTATION_PREFIX,
    EXCEPTION_ANNOTATIONS,
    configuration_item_pattern,
    deletion_pattern,
    is_configuration_item_deletion,
    is_deletion_event,
)
from entrypoints.local.sample_events import compliance_change_event, configuration_item_event

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"

# Every rule in infra/ that carries the deletion pattern: (template, logical id).
RULES = [
    pytest.param(SEND_EVENTS, "ForwardDeletionsRule", id="send-events"),
    pytest.param(STATUS_UPDATE, "DeletionEventsRule", id="status-update"),
]
# Every rule in infra/ that carries the configuration item deletion pattern.
ITEM_RULES = [
    pytest.param(SEND_EVENTS, "ForwardConfigItemDeletionsRule", id="send-events"),
    pytest.param(STATUS_UPDATE, "ConfigItemDeletionEventsRule", id="status-update"),
]
ENVIRONMENTS = list(ENVIRONMENT_PREFIXES)

# Content-filter operators EventBridge accepts (the event patterns reference); "$or" is the
# only key an object may carry that is not an event field.
EVENTBRIDGE_OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "equals-ignore-case",
        "wildcard",
    }
)


def template_pattern(path: Path, logical_id: str, environment: str) -> dict[str, Any]:
    """The rule's EventPattern as CloudFormation would resolve it for the environment."""
    template = load_template(path)
    pattern = template["Resources"][logical_id]["Properties"]["EventPattern"]
    resolved = resolve(template, pattern, {"Environment": environment})
    assert isinstance(resolved, dict)
    return resolved


def _event(rule_name: str = "DEV-sg-open", **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "account_id": "111122223333",
        "region": "eu-west-1",
        "rule_name": rule_name,
        "resource_type": "AWS::EC2::SecurityGroup",
        "resource_id": "sg-0a1b2c3d4e5f60718",
        "event_id": f"corpus-{rule_name}-{sorted(overrides.items())!r}",
    }
    fields.update(overrides)
    return compliance_change_event(**fields)


def _with(event: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``event`` with the field at ``path`` replaced (``...`` removes it)."""
    changed = copy.deepcopy(event)
    node = changed
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


def corpus() -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, event) pairs: the sample files and variants around every edge of the pattern."""
    for path in sorted(EVENTS_DIR.glob("*.json")):
        yield path.name, json.loads(path.read_text())

    rule_names = [
        "DEV-sg-open",
        "DEV-",
        "DEV",
        "DEV-x",
        "dev-x",
        "DEVx",
        "xDEV-y",
        "QA-s3-public",
        "QA",
        "qa-s3-public",
        "PROD-sg-open",
        "sg-open",
        "",
    ]
    for annotation in (*EXCEPTION_ANNOTATIONS, None, "This resource is an exception", "Other."):
        for name in rule_names:
            yield (
                f"rule={name!r} old-annotation={annotation!r}",
                _event(name, old_annotation=annotation),
            )

    compliance = ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"]
    for old in compliance:
        for new in compliance:
            for name in ("DEV-sg-open", "QA-s3-public", "sg-open"):
                yield (
                    f"rule={name} {old}->{new}",
                    _event(name, old_compliance=old, new_compliance=new),
                )

    for name in ("DEV-sg-open", "QA-s3-public", "sg-open"):
        yield f"rule={name} no oldEvaluationResult", _event(name, old_compliance=None)
        for new_annotation in (
            f"{DELETED_ANNOTATION_PREFIX}.",
            DELETED_ANNOTATION_PREFIX,
            f"{DELETED_ANNOTATION_PREFIX} from the configuration recorder",
            "resource was deleted.",
            "The resource was deleted.",
            "Resource was delete",
            None,
        ):
            yield (
                f"rule={name} new-annotation={new_annotation!r}",
                _event(name, new_annotation=new_annotation),
            )

        base = _event(name)
        wrong_envelope = {
            "source=aws.ec2": (("source",), "aws.ec2"),
            "source=aws.configx": (("source",), "aws.configx"),
            "source=AWS.CONFIG": (("source",), "AWS.CONFIG"),
            "no source": (("source",), ...),
            "detail-type=item change": (
                ("detail-type",),
                "Config Configuration Item Change",
            ),
            "no detail-type": (("detail-type",), ...),
            "messageType=item change": (
                ("detail", "messageType"),
                "ConfigurationItemChangeNotification",
            ),
            "messageType=oversized": (
                ("detail", "messageType"),
                "OversizedConfigurationItemChangeNotification",
            ),
            "no messageType": (("detail", "messageType"), ...),
            "no configRuleName": (("detail", "configRuleName"), ...),
            "configRuleName=number": (("detail", "configRuleName"), 7),
            "old annotation in a list": (
                ("detail", "oldEvaluationResult", "annotation"),
                [EXCEPTION_ANNOTATIONS[1]],
            ),
            "new compliance in a list": (
                ("detail", "newEvaluationResult", "complianceType"),
                ["NON_COMPLIANT", "NOT_APPLICABLE"],
            ),
            "no newEvaluationResult": (("detail", "newEvaluationResult"), ...),
            "oldEvaluationResult=null": (("detail", "oldEvaluationResult"), None),
        }
        for label, (path, value) in wrong_envelope.items():
            yield f"rule={name} {label}", _with(base, path, value)


CORPUS = list(corpus())


@pytest.mark.parametrize(("path", "logical_id"), RULES)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_template_pattern_resolves_to_the_domain_pattern(
    path: Path, logical_id: str, environment: str
) -> None:
    pattern = template_pattern(path, logical_id, environment)

    assert pattern == deletion_pattern(ENVIRONMENT_PREFIXES[environment])


@pytest.mark.parametrize(("path", "logical_id"), RULES)
def test_prod_pattern_has_no_rule_name_key(path: Path, logical_id: str) -> None:
    assert "configRuleName" not in template_pattern(path, logical_id, "PROD")["detail"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_lambdas_get_the_prefix_the_patterns_filter_on(environment: str) -> None:
    template = load_template(STATUS_UPDATE)
    for logical_id in ("ProcessorFunction", "SweepFunction", "SweepWorkerFunction"):
        variables = template["Resources"][logical_id]["Properties"]["Environment"]["Variables"]
        resolved = resolve(template, variables, {"Environment": environment, **SWEEP_REFS})

        assert resolved["ELM_RULE_PREFIX"] == ENVIRONMENT_PREFIXES[environment]


def test_corpus_is_large_and_has_both_outcomes_in_every_environment() -> None:
    assert len(CORPUS) >= 30
    for prefix in ENVIRONMENT_PREFIXES.values():
        outcomes = [is_deletion_event(event, prefix) for _, event in CORPUS]
        assert outcomes.count(True) >= 5, prefix
        assert outcomes.count(False) >= 30, prefix


@pytest.mark.parametrize(("path", "logical_id"), RULES)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_eventbridge_and_the_handler_agree_on_every_corpus_event(
    path: Path, logical_id: str, environment: str
) -> None:
    prefix = ENVIRONMENT_PREFIXES[environment]
    judge = EventPattern.load(json.dumps(template_pattern(path, logical_id, environment)))

    verdicts = [
        (label, judge.matches_event(event), is_deletion_event(event, prefix))
        for label, event in CORPUS
    ]
    disagreements = [
        f"{label}: EventBridge={rule} handler={code}"
        for label, rule, code in verdicts
        if rule != code
    ]

    assert disagreements == []


@pytest.mark.parametrize(
    ("environment", "rule_name", "forwarded"),
    [
        ("DEV", "DEV-x", True),
        ("DEV", "DEV-", True),
        ("DEV", "DEV", False),
        ("DEV", "dev-x", False),
        ("DEV", "QA-x", False),
        ("QA", "QA-x", True),
        ("QA", "DEV-x", False),
        ("PROD", "DEV-x", True),
        ("PROD", "anything", True),
    ],
)
def test_prefix_edges_are_decided_as_the_environment_intends(
    environment: str, rule_name: str, forwarded: bool
) -> None:
    pattern = template_pattern(SEND_EVENTS, "ForwardDeletionsRule", environment)

    assert EventPattern.load(json.dumps(pattern)).matches_event(_event(rule_name)) is forwarded


def operators_in(pattern: Any) -> Iterator[str]:
    """Every operator name in a pattern: the keys of objects inside value lists, and $-keys."""
    if isinstance(pattern, dict):
        for key, value in pattern.items():
            if key.startswith("$"):
                yield key
            if key == "$or" and isinstance(value, list):
                # Its list holds sub-patterns, not operators: walk each as a pattern.
                for alternative in value:
                    yield from operators_in(alternative)
                continue
            yield from operators_in(value)
    elif isinstance(pattern, list):
        for item in pattern:
            if isinstance(item, dict):
                yield from item
            yield from operators_in(item)


def unknown_operators(pattern: Any) -> set[str]:
    """Operators EventBridge would reject."""
    return {op for op in operators_in(pattern) if op not in EVENTBRIDGE_OPERATORS | {"$or"}}


@pytest.mark.parametrize(("path", "logical_id"), RULES)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_template_pattern_uses_only_real_eventbridge_operators(
    path: Path, logical_id: str, environment: str
) -> None:
    pattern = template_pattern(path, logical_id, environment)

    assert set(operators_in(pattern)) != set()  # the walk sees the pattern's operators
    assert unknown_operators(pattern) == set()


def test_misspelled_operator_is_caught_although_moto_accepts_it() -> None:
    misspelled = deletion_pattern("DEV-")
    misspelled["detail"]["configRuleName"] = [{"prefixx": "DEV-"}]

    # moto takes it and matches an event of another environment: the check is not redundant.
    assert EventPattern.load(json.dumps(misspelled)).matches_event(_event("QA-x"))
    assert unknown_operators(misspelled) == {"prefixx"}


# --- The second signal: AWS Config's configuration item change. ---
#
# The statuses are those of "ConfigurationItem" in the AWS Config API Reference
# (https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigurationItem.html); the
# oversized form, with a configurationItemSummary, is "Example Oversized Configuration Item
# Change Notification" in the AWS Config Developer Guide
# (https://docs.aws.amazon.com/config/latest/developerguide/oversized-notification-example.html).

_ITEM_TYPES = {
    "AWS::EC2::SecurityGroup": (
        "sg-0a1b",
        "web",
        "arn:aws:ec2:eu-west-1:{a}:security-group/sg-0a1b",
    ),
    "AWS::S3::Bucket": ("logs-eu", "logs-eu", "arn:aws:s3:::logs-eu"),
    "AWS::IAM::Role": ("AROAEXAMPLE000001", "deploy", "arn:aws:iam::{a}:role/deploy"),
    "AWS::Lambda::Function": ("rotate", "rotate", "arn:aws:lambda:eu-west-1:{a}:function:rotate"),
    "AWS::EC2::Volume": ("vol-0a1b2c3d", None, "arn:aws:ec2:eu-west-1:{a}:volume/vol-0a1b2c3d"),
    "AWS::RDS::DBInstance": ("db-ABCDEFG", "orders", "arn:aws:rds:eu-west-1:{a}:db:orders"),
}


def _item(resource_type: str = "AWS::EC2::SecurityGroup", **overrides: Any) -> dict[str, Any]:
    resource_id, name, arn = _ITEM_TYPES[resource_type]
    fields: dict[str, Any] = {
        "account_id": "111122223333",
        "region": "eu-west-1",
        "resource_type": resource_type,
        "resource_id": resource_id,
        "resource_name": name,
        "arn": arn.format(a="111122223333"),
        "event_id": f"item-{resource_type}-{sorted(overrides.items())!r}",
    }
    fields.update(overrides)
    return configuration_item_event(**fields)


def item_corpus() -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, event) pairs of configuration item changes, deletions and everything else."""
    for path in sorted(EVENTS_DIR.glob("ci-*.json")):
        yield path.name, json.loads(path.read_text())
    statuses = {
        "ResourceDeleted": "DELETE",
        "ResourceDeletedNotRecorded": "DELETE",
        "OK": "UPDATE",
        "ResourceDiscovered": "CREATE",
        "ResourceNotRecorded": "CREATE",
    }
    for resource_type in _ITEM_TYPES:
        for status, change_type in statuses.items():
            for oversized in (False, True):
                yield (
                    f"{resource_type} {status} oversized={oversized}",
                    _item(
                        resource_type, status=status, change_type=change_type, oversized=oversized
                    ),
                )
    deleted = _item()
    summary = _item(oversized=True)
    variants = {
        "source=aws.ec2": (deleted, ("source",), "aws.ec2"),
        "source=custom.config": (deleted, ("source",), "custom.config"),
        "no source": (deleted, ("source",), ...),
        "detail-type=compliance change": (
            deleted,
            ("detail-type",),
            "Config Rules Compliance Change",
        ),
        "no detail-type": (deleted, ("detail-type",), ...),
        "messageType=oversized, item present": (
            deleted,
            ("detail", "messageType"),
            "OversizedConfigurationItemChangeNotification",
        ),
        "messageType=normal, summary present": (
            summary,
            ("detail", "messageType"),
            "ConfigurationItemChangeNotification",
        ),
        "messageType=ComplianceChangeNotification": (
            deleted,
            ("detail", "messageType"),
            "ComplianceChangeNotification",
        ),
        "no messageType": (deleted, ("detail", "messageType"), ...),
        "no configurationItem": (deleted, ("detail", "configurationItem"), ...),
        "no status": (deleted, ("detail", "configurationItem", "configurationItemStatus"), ...),
        "status lower case": (
            deleted,
            ("detail", "configurationItem", "configurationItemStatus"),
            "resourcedeleted",
        ),
        "status Deleted": (
            deleted,
            ("detail", "configurationItem", "configurationItemStatus"),
            "Deleted",
        ),
        "status in a list": (
            deleted,
            ("detail", "configurationItem", "configurationItemStatus"),
            ["OK", "ResourceDeleted"],
        ),
        "status null": (deleted, ("detail", "configurationItem", "configurationItemStatus"), None),
        "no diff": (deleted, ("detail", "configurationItemDiff"), ...),
        "summary status OK": (
            summary,
            ("detail", "configurationItemSummary", "configurationItemStatus"),
            "OK",
        ),
        "no summary": (summary, ("detail", "configurationItemSummary"), ...),
    }
    for label, (base, path, value) in variants.items():
        yield label, _with(base, path, value)


ITEM_CORPUS = list(item_corpus())


@pytest.mark.parametrize(("path", "logical_id"), ITEM_RULES)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_item_rule_pattern_resolves_to_the_domain_pattern(
    path: Path, logical_id: str, environment: str
) -> None:
    assert template_pattern(path, logical_id, environment) == configuration_item_pattern()


def test_item_corpus_is_large_and_has_both_outcomes() -> None:
    outcomes = [is_configuration_item_deletion(event) for _, event in ITEM_CORPUS]

    assert len(ITEM_CORPUS) >= 25
    assert outcomes.count(True) >= 12
    assert outcomes.count(False) >= 25


@pytest.mark.parametrize(("path", "logical_id"), ITEM_RULES)
def test_eventbridge_and_the_handler_agree_on_every_item_corpus_event(
    path: Path, logical_id: str
) -> None:
    judge = EventPattern.load(json.dumps(template_pattern(path, logical_id, "PROD")))

    disagreements = [
        f"{label}: EventBridge={rule} handler={code}"
        for label, event in ITEM_CORPUS
        if (rule := judge.matches_event(event)) != (code := is_configuration_item_deletion(event))
    ]

    assert disagreements == []


@pytest.mark.parametrize(("path", "logical_id"), ITEM_RULES)
def test_item_rule_forwards_no_compliance_change(path: Path, logical_id: str) -> None:
    judge = EventPattern.load(json.dumps(template_pattern(path, logical_id, "PROD")))

    assert [label for label, event in CORPUS if judge.matches_event(event)] == [
        label
        for label, _ in CORPUS
        if label.startswith("ci-deleted") or "oversized-deleted" in label
    ]


@pytest.mark.parametrize(("path", "logical_id"), RULES)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_compliance_rule_forwards_no_configuration_item(
    path: Path, logical_id: str, environment: str
) -> None:
    judge = EventPattern.load(json.dumps(template_pattern(path, logical_id, environment)))

    assert [label for label, event in ITEM_CORPUS if judge.matches_event(event)] == []


@pytest.mark.parametrize(("path", "logical_id"), ITEM_RULES)
def test_item_rule_pattern_uses_only_real_eventbridge_operators(
    path: Path, logical_id: str
) -> None:
    pattern = template_pattern(path, logical_id, "PROD")

    assert "$or" in set(operators_in(pattern))
    assert unknown_operators(pattern) == set()
