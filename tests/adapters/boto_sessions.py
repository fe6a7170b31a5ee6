"""Boto3 sessions for the adapters' tests: one that records the clients it makes, one of stubs."""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.stub import Stubber

__all__ = ["RecordingSession", "StubbedSession"]


class RecordingSession(boto3.session.Session):
    """A real boto3 session that remembers every client it was asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_requests: list[tuple[str, dict[str, Any]]] = []

    def client(self, service_name: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self.client_requests.append((service_name, kwargs))
        return super().client(service_name, **kwargs)


@functools.cache
def _base_session() -> boto3.session.Session:
    # One session for every test: it loads each service model once.
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


class StubbedSession:
    """Hands out one stubbed client per service, whatever region or credentials are asked."""

    def __init__(self) -> None:
        real = _base_session()
        self.clients = {name: real.client(name) for name in ("sts", "config")}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}
        self.client_requests: list[tuple[str, dict[str, Any]]] = []
        for stubber in self.stubbers.values():
            stubber.activate()

    def client(self, service_name: str, **kwargs: Any) -> Any:
        self.client_requests.append((service_name, kwargs))
        return self.clients[service_name]

    @property
    def sts(self) -> Stubber:
        return self.stubbers["sts"]

    @property
    def config(self) -> Stubber:
        return self.stubbers["config"]

    def assert_no_pending_responses(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
