"""The processor's deadline margin: a template parameter the settings reader accepts whole,
and one that leaves the function time to work on at least one record."""

from __future__ import annotations

from typing import Any

import pytest
from cfn_templates import STATUS_UPDATE, load_template, resolve

from entrypoints.composition.settings import Settings


def _processor_settings(parameters: dict[str, str]) -> Settings:
    template = load_template(STATUS_UPDATE)
    function = template["Resources"]["ProcessorFunction"]["Properties"]
    variables: dict[str, Any] = resolve(template, function["Environment"]["Variables"], parameters)
    return Settings.from_env({k: str(v) for k, v in variables.items()})


def test_the_margin_parameter_reaches_the_processor() -> None:
    assert _processor_settings({}).deadline_margin_seconds == 10
    assert _processor_settings({"DeadlineMarginSeconds": "25"}).deadline_margin_seconds == 25


@pytest.mark.parametrize("end", ["MinValue", "MaxValue"])
def test_every_margin_the_template_admits_is_one_the_settings_accept(end: str) -> None:
    value = load_template(STATUS_UPDATE)["Parameters"]["DeadlineMarginSeconds"][end]

    assert (
        _processor_settings({"DeadlineMarginSeconds": str(value)}).deadline_margin_seconds == value
    )


def test_the_largest_margin_still_leaves_time_for_a_record() -> None:
    template = load_template(STATUS_UPDATE)
    timeout = template["Resources"]["ProcessorFunction"]["Properties"]["Timeout"]

    assert template["Parameters"]["DeadlineMarginSeconds"]["MaxValue"] < timeout
