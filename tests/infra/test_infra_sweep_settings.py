"""The sweep's bounds: template parameters that the settings readers accept whole.

A value CloudFormation lets through but the settings refuse would stop every sweep worker
at start; a budget longer than the worker's timeout allows would have the worker killed
mid-item. These hold the parameters' ranges to both.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_templates import STATUS_UPDATE, SWEEP_REFS, load_template, resolve

from application.reconcile import SweepLimits
from entrypoints.composition.settings import Settings
from entrypoints.composition.sweep_run_wiring import RunWiring
from entrypoints.sweep_run_handler import SAFETY_MARGIN_SECONDS

BOUNDS = ("SweepPageSize", "SweepCallsPerSecond", "SweepBudgetSeconds")
RUN_SHAPE = ("SweepSegments", "SweepChunkRecords")
WRITE_MARGIN_SECONDS = 30
"""Kept from a worker's timeout beyond an item's budget: the item's last writes, its count
in the ledger, the run's summary and the metrics. At least the worker's own margin, under
which it starts no Config call."""


def _variables(parameters: dict[str, str]) -> dict[str, str]:
    template = load_template(STATUS_UPDATE)
    function = template["Resources"]["SweepWorkerFunction"]["Properties"]
    variables: dict[str, Any] = resolve(
        template, function["Environment"]["Variables"], {**SWEEP_REFS, **parameters}
    )
    return {k: str(v) for k, v in variables.items()}


def _sweep_limits(parameters: dict[str, str]) -> SweepLimits:
    return Settings.from_env(_variables(parameters)).sweep_limits


def test_the_defaults_reach_the_workers_as_their_limits() -> None:
    assert _sweep_limits({}) == SweepLimits(
        page_size=100, max_calls_per_second=2.0, budget_seconds=240.0
    )


def test_each_parameter_sets_its_own_variable() -> None:
    limits = _sweep_limits(
        {"SweepPageSize": "25", "SweepCallsPerSecond": "0.5", "SweepBudgetSeconds": "120"}
    )

    assert limits == SweepLimits(page_size=25, max_calls_per_second=0.5, budget_seconds=120.0)


@pytest.mark.parametrize("parameter", BOUNDS)
@pytest.mark.parametrize("end", ["MinValue", "MaxValue"])
def test_every_value_the_template_admits_is_one_the_settings_accept(
    parameter: str, end: str
) -> None:
    value = str(load_template(STATUS_UPDATE)["Parameters"][parameter][end])

    _sweep_limits({parameter: value})  # raises SettingsError naming the variable otherwise


@pytest.mark.parametrize("parameter", RUN_SHAPE)
@pytest.mark.parametrize("end", ["MinValue", "MaxValue", "Default"])
def test_every_run_shape_the_template_admits_is_one_the_wiring_accepts(
    parameter: str, end: str
) -> None:
    value = str(load_template(STATUS_UPDATE)["Parameters"][parameter][end])

    RunWiring.from_env(_variables({parameter: value}))  # SettingsError otherwise


def test_an_items_budget_leaves_the_margin_inside_the_workers_timeout() -> None:
    """One item a batch: the worst batch is one item that spends its whole budget."""
    template = load_template(STATUS_UPDATE)
    budget = template["Parameters"]["SweepBudgetSeconds"]
    worker = template["Resources"]["SweepWorkerFunction"]["Properties"]
    batch = template["Resources"]["SweepEventSourceMapping"]["Properties"]["BatchSize"]

    assert WRITE_MARGIN_SECONDS >= SAFETY_MARGIN_SECONDS
    assert batch * budget["MaxValue"] + WRITE_MARGIN_SECONDS <= worker["Timeout"]
    assert budget["Default"] <= budget["MaxValue"]
