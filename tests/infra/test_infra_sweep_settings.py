"""The sweep function's bounds: template parameters that the settings reader accepts whole.

A value CloudFormation lets through but `Settings.from_env` refuses would stop every sweep
at start; a budget longer than the timeout allows would be cut by the handler anyway. These
hold the parameters' ranges to both.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_templates import STATUS_UPDATE, load_template, resolve

from application.reconcile import SweepLimits
from entrypoints.composition.settings import Settings
from entrypoints.sweep_handler import SAFETY_MARGIN_SECONDS

BOUNDS = ("SweepPageSize", "SweepCallsPerSecond", "SweepBudgetSeconds")


def _sweep_limits(parameters: dict[str, str]) -> SweepLimits:
    template = load_template(STATUS_UPDATE)
    function = template["Resources"]["SweepFunction"]["Properties"]
    variables: dict[str, Any] = resolve(template, function["Environment"]["Variables"], parameters)
    return Settings.from_env({k: str(v) for k, v in variables.items()}).sweep_limits


def test_the_defaults_reach_the_sweep_as_its_limits() -> None:
    assert _sweep_limits({}) == SweepLimits(
        page_size=100, max_calls_per_second=2.0, budget_seconds=600.0
    )


def test_each_parameter_sets_its_own_variable() -> None:
    limits = _sweep_limits(
        {"SweepPageSize": "25", "SweepCallsPerSecond": "0.5", "SweepBudgetSeconds": "300"}
    )

    assert limits == SweepLimits(page_size=25, max_calls_per_second=0.5, budget_seconds=300.0)


@pytest.mark.parametrize("parameter", BOUNDS)
@pytest.mark.parametrize("end", ["MinValue", "MaxValue"])
def test_every_value_the_template_admits_is_one_the_settings_accept(
    parameter: str, end: str
) -> None:
    value = str(load_template(STATUS_UPDATE)["Parameters"][parameter][end])

    _sweep_limits({parameter: value})  # raises SettingsError naming the variable otherwise


def test_the_budget_leaves_the_handlers_margin_inside_the_timeout() -> None:
    template = load_template(STATUS_UPDATE)
    budget = template["Parameters"]["SweepBudgetSeconds"]
    timeout = template["Resources"]["SweepFunction"]["Properties"]["Timeout"]

    assert budget["MaxValue"] + SAFETY_MARGIN_SECONDS <= timeout
    assert budget["Default"] <= budget["MaxValue"]
