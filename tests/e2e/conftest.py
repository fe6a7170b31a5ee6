"""One run of the local pipeline on the example estate, shared by the end-to-end tests."""

from __future__ import annotations

import os
import threading

import boto3
import pytest
from local_run import PipelineRun

from entrypoints.cli.local import DEFAULT_SCENARIO
from entrypoints.local.pipeline import run_local_pipeline
from entrypoints.local.scenario import load_scenario


@pytest.fixture(scope="session")
def pipeline_run() -> PipelineRun:
    """`examples/local-estate.yaml` through the whole production flow on a moto server."""
    scenario = load_scenario(DEFAULT_SCENARIO)
    with pytest.MonkeyPatch.context() as patch:
        # Settings that would break or misdirect a run reading the environment: it must not.
        patch.setenv("AWS_PROFILE", "elm-no-such-profile")
        patch.setenv("MOTO_ACCOUNT_ID", "999999999999")
        patch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        patch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
        patch.setenv("ELM_EXCEPTIONS_TABLE", "not-the-local-table")
        environment_before = dict(os.environ)
        session_before = boto3.DEFAULT_SESSION
        threads_before = frozenset(t.ident or 0 for t in threading.enumerate())
        report = run_local_pipeline(scenario)
        return PipelineRun(
            report=report,
            environment_before=environment_before,
            environment_after=dict(os.environ),
            default_session_before=session_before,
            default_session_after=boto3.DEFAULT_SESSION,
            threads_before=threads_before,
            threads_after=frozenset(t.ident or 0 for t in threading.enumerate()),
        )
