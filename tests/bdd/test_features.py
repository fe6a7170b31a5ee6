"""Every feature in features/, run on every wiring of the ``wiring`` fixture."""

from __future__ import annotations

import pytest
from pytest_bdd import scenarios

# Steps reach `wiring` only at run time; naming it here lets pytest parametrize every
# scenario by it at collection.
pytestmark = pytest.mark.usefixtures("wiring")

scenarios(
    "simple_resource_id.feature",
    "simple_resource_arn.feature",
    "composite.feature",
    "event_filter.feature",
    "authenticity.feature",
    "matching_safety.feature",
    "configuration_item.feature",
    "elm_events.feature",
)
