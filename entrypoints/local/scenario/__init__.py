"""Scenario files: YAML in (`parser`), validated values out (`model`), and the simulated
AWS Config inventory a scenario declares (`inventory`)."""

from entrypoints.local.scenario.model import (
    DEFAULT_START,
    Deletion,
    InventoryResource,
    Scenario,
    ScenarioError,
    ScenarioEvent,
    SweepStep,
)
from entrypoints.local.scenario.parser import load_scenario, parse_scenario

__all__ = [
    "DEFAULT_START",
    "Deletion",
    "InventoryResource",
    "Scenario",
    "ScenarioError",
    "ScenarioEvent",
    "SweepStep",
    "load_scenario",
    "parse_scenario",
]
