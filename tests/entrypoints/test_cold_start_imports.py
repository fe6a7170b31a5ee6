"""What the event Lambda's cold start imports: not the sweep, not the in-memory twins.

Each check runs in a fresh interpreter (the test process has imported everything already),
and looks after the first invocation's wiring too, so that a module moved out of the
import but into the first invocation would still be caught.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from injector import CallError

from application.reconcile import Reconcile
from entrypoints.aws_lambda.runtime import container_from_env

NEVER_ON_THE_EVENT_PATH = ("application.reconcile", "adapters.in_memory")

_PROBE = """
import json, sys
from application.handle_change import HandleComplianceChange
from entrypoints import lambda_handler
from entrypoints.aws_lambda import event_handler
loaded_by_import = sorted(sys.modules)
event_handler._runtime.get().get(HandleComplianceChange)
print(json.dumps({"import": loaded_by_import, "first_invocation": sorted(sys.modules)}))
"""


def _aws_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_DEFAULT_REGION": "eu-west-1"}


def test_the_event_lambda_imports_neither_the_sweep_nor_the_twins_even_once_wired() -> None:
    done = subprocess.run(  # noqa: S603 (our own probe, run by this interpreter)
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, env=_aws_env()
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])

    for when in ("import", "first_invocation"):
        unwanted = [
            m
            for m in loaded[when]
            if any(m == p or m.startswith(p + ".") for p in NEVER_ON_THE_EVENT_PATH)
        ]
        assert unwanted == [], when


def test_the_production_container_has_the_sweep_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    assert isinstance(container_from_env(sweep=True).get(Reconcile), Reconcile)
    with pytest.raises(CallError, match="Reconcile"):
        container_from_env(sweep=False).get(Reconcile)
