"""What runs in AWS never loads the CLI or the local tools, measured in a fresh interpreter.

import-linter checks the imports written in the code; this checks what Python really loads
when the deployed handler paths are imported and the first invocation is wired, so that an
import hidden in a function or a library's side effect is caught too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

NOT_IN_AWS = ("entrypoints.cli", "entrypoints.local", "typer", "rich", "yaml", "moto")

_PROBE = """
import json, sys
from entrypoints import lambda_handler, sweep_run_handler
from entrypoints.aws_lambda.runtime import container_from_env
from application.handle_change import HandleComplianceChange
from application.reconcile import Reconcile
container_from_env(sweep=True).get(Reconcile)
container_from_env(sweep=False).get(HandleComplianceChange)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded() -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(  # noqa: S603 (our own probe, run by this interpreter)
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "AWS_DEFAULT_REGION": "eu-west-1"},
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.fixture(scope="module")
def loaded() -> list[str]:
    return _loaded()


def test_the_handlers_import_closure_holds_no_cli_and_no_local_tool(loaded: list[str]) -> None:
    unwanted = [m for m in loaded if any(m == p or m.startswith(p + ".") for p in NOT_IN_AWS)]

    assert unwanted == []


def test_the_probe_sees_the_handlers_own_rooms(loaded: list[str]) -> None:
    # The probe is only worth something if it loads what it claims to.
    assert "entrypoints.aws_lambda.event_handler" in loaded
    assert "entrypoints.aws_lambda.sweep_run_handler" in loaded
    assert "entrypoints.composition.container" in loaded
