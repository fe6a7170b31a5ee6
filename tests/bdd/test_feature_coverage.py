"""The features speak of every outcome of docs/behaviour.md: each is produced and asserted
somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.outcomes import Outcome

FEATURES = Path(__file__).parent.parent.parent / "features"
EXPECTED_FILES = {
    "simple_resource_id.feature",
    "simple_resource_arn.feature",
    "composite.feature",
    "event_filter.feature",
    "authenticity.feature",
    "matching_safety.feature",
    "configuration_item.feature",
    "elm_events.feature",
}


def _asserted_outcomes() -> set[str]:
    """Outcomes in `the outcome(s) is/are "..."` steps, and in Examples cells of outlines
    whose steps assert ``"<column>"`` as the outcome."""
    found: set[str] = set()
    for path in FEATURES.glob("*.feature"):
        text = path.read_text()
        for quoted in re.findall(r'Then the outcomes? (?:is|are) "([^"<>]*)"', text):
            found.update(part.strip() for part in quoted.split(","))
        # Examples tables: every cell that names an outcome, in outlines asserting <outcome>.
        if 'the outcome is "<outcome>"' in text or 'the outcomes are "<outcomes>"' in text:
            for cell in re.findall(r"\|\s*([a-z-]+(?:, [a-z-]+)*)\s*(?=\|)", text):
                found.update(part.strip() for part in cell.split(","))
    return found


def test_the_feature_files_are_the_ones_the_suite_runs() -> None:
    assert {p.name for p in FEATURES.glob("*.feature")} == EXPECTED_FILES


@pytest.mark.parametrize("outcome", list(Outcome), ids=lambda o: o.value)
def test_every_outcome_is_asserted_by_a_scenario(outcome: Outcome) -> None:
    assert outcome.value in _asserted_outcomes()


@pytest.mark.parametrize("name", sorted(EXPECTED_FILES))
def test_features_use_business_language_not_aws_api_names(name: str) -> None:
    text = (FEATURES / name).read_text()
    for api_name in (
        "DynamoDB",
        "ListDiscoveredResources",
        "EventBridge",
        "SQS",
        "Lambda",
        "AssumeRole",
        "resourceDeletionTime",
        "awsAccountId",
        "batchItemFailures",
    ):
        assert api_name not in text, f"{name} mentions {api_name}"
