"""Fixtures for the AWS adapters' tests: fake credentials, moto, and stubbed sessions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from boto_sessions import StubbedSession
from moto import mock_aws


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, so no test can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    """moto's in-process AWS for the duration of the test."""
    with mock_aws():
        yield


@pytest.fixture
def stubbed_session() -> Iterator[StubbedSession]:
    """A session of Stubber-backed clients; fails the test if a queued response went unused."""
    session = StubbedSession()
    yield session
    session.assert_no_pending_responses()
