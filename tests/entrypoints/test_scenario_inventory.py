"""ScenarioInventory: a scenario's resources on the in-memory twin, and its events' deletions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.errors import TransientError
from entrypoints.composition.settings import Settings
from entrypoints.local.scenario import Deletion, InventoryResource, Scenario
from entrypoints.local.scenario.inventory import ScenarioInventory

ACCOUNT = "111122223333"
REGION = "eu-west-1"
BUCKET = "AWS::S3::Bucket"


def _scenario(*resources: InventoryResource, failing: tuple[tuple[str, str], ...] = ()) -> Scenario:
    return Scenario(
        source="test.yaml",
        settings=Settings(),
        start=datetime(2026, 3, 4, tzinfo=UTC),
        rules=(),
        exceptions=(),
        resources=resources,
        failing_accounts=failing,
        events=(),
    )


def test_the_declared_resources_are_what_aws_config_reports() -> None:
    inventory = ScenarioInventory(
        _scenario(
            InventoryResource(ACCOUNT, REGION, BUCKET, "kept", name="kept-name"),
            InventoryResource(ACCOUNT, REGION, BUCKET, "gone", deleted=True),
        )
    ).inventory

    found = inventory.lookup(ACCOUNT, REGION, BUCKET, ["kept", "gone", "unknown"])

    assert {i: (s.resource_name, s.deleted) for i, s in found.items()} == {
        "kept": ("kept-name", False),
        "gone": (None, True),
    }


def test_the_scenarios_failing_accounts_fail_their_lookups() -> None:
    inventory = ScenarioInventory(_scenario(failing=((ACCOUNT, "AccessDenied"),))).inventory

    with pytest.raises(TransientError, match="AccessDenied"):
        inventory.lookup(ACCOUNT, REGION, BUCKET, ["b1"])


def test_a_deletion_without_a_name_keeps_the_declared_name() -> None:
    config = ScenarioInventory(
        _scenario(InventoryResource(ACCOUNT, REGION, BUCKET, "b1", name="declared"))
    )

    config.delete(Deletion(ACCOUNT, REGION, BUCKET, "b1"))

    state = config.inventory.lookup(ACCOUNT, REGION, BUCKET, ["b1"])["b1"]
    assert (state.resource_name, state.deleted) == ("declared", True)


def test_a_named_deletion_renames_and_a_later_unnamed_one_keeps_that_name() -> None:
    config = ScenarioInventory(_scenario())

    config.delete(Deletion(ACCOUNT, REGION, BUCKET, "new", name="given"))
    config.delete(Deletion(ACCOUNT, REGION, BUCKET, "new"))

    state = config.inventory.lookup(ACCOUNT, REGION, BUCKET, ["new"])["new"]
    assert (state.resource_name, state.deleted) == ("given", True)
