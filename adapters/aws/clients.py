"""boto3 clients made lazily, once per container, with standard retries and explicit timeouts."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

__all__ = ["AwsClients", "Credentials", "client_config"]

Credentials = tuple[str, str, str]
"""Temporary credentials: (access key id, secret access key, session token)."""

_MAX_CREDENTIAL_CLIENTS = 64


def client_config(
    *, max_attempts: int = 3, connect_timeout: float = 3.0, read_timeout: float = 10.0
) -> Config:
    """The botocore settings every ELM client uses (``max_attempts`` counts retries).

    Standard retries back off on throttling and 5xx; the timeouts are explicit because the
    defaults (60 s) would let one slow call eat a Lambda's whole budget.
    """
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


class AwsClients:
    """A factory of boto3 clients, each built on first use and then reused.

    ``endpoint_url`` is normally left unset: boto3 itself honours ``AWS_ENDPOINT_URL``.
    Clients for assumed-role credentials are cached per (access key, region), a bounded
    number of them, since the caller renews those credentials before they expire.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
    ) -> None:
        self._session = session
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self._config = config or client_config()
        # boto3 sessions are not thread-safe when creating clients.
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._credential_clients: OrderedDict[tuple[str, str, str], Any] = OrderedDict()

    @property
    def session(self) -> boto3.Session:
        """The session clients are made from (a new one unless given)."""
        with self._lock:
            return self._session_locked()

    def dynamodb(self) -> DynamoDBClient:
        """The DynamoDB client."""
        client: DynamoDBClient = self._shared("dynamodb")
        return client

    def sqs(self) -> SQSClient:
        """The SQS client (the distributed sweep's work queue)."""
        client: SQSClient = self._shared("sqs")
        return client

    def events(self) -> EventBridgeClient:
        """The EventBridge client (ELM's own events)."""
        client: EventBridgeClient = self._shared("events")
        return client

    def sts(self) -> STSClient:
        """The STS client, on the region's own STS endpoint whatever the installed botocore.

        Older botocore releases default to the global endpoint (``sts.amazonaws.com``, served
        from us-east-1), and ``AWS_STS_REGIONAL_ENDPOINTS=legacy`` or a config file can ask for
        it too; the regional endpoint keeps ELM's AssumeRole calls in its own region and
        working when us-east-1 is impaired ("AWS STS Regional endpoints", AWS SDKs and Tools
        Reference Guide).
        """
        with self._lock:
            # boto3 keeps the setting in its botocore session's config store, the only place
            # every botocore release reads it from (a test's stand-in session has none).
            core = getattr(self._session_locked(), "_session", None)
            if isinstance(core, botocore.session.Session):
                core.set_config_variable("sts_regional_endpoints", "regional")
        client: STSClient = self._shared("sts")
        return client

    def config(self, credentials: Credentials, region: str) -> ConfigServiceClient:
        """An AWS Config client for assumed-role ``credentials`` in ``region``."""
        key = ("config", credentials[0], region)
        with self._lock:
            cached = self._credential_clients.get(key)
            if cached is None:
                access_key, secret_key, token = credentials
                cached = self._session_locked().client(
                    "config",
                    region_name=region,
                    endpoint_url=self._endpoint_url,
                    config=self._config,
                    aws_access_key_id=access_key,
                    aws_secret_access_key=secret_key,
                    aws_session_token=token,
                )
                self._credential_clients[key] = cached
                while len(self._credential_clients) > _MAX_CREDENTIAL_CLIENTS:
                    self._credential_clients.popitem(last=False)
            else:
                self._credential_clients.move_to_end(key)
        client: ConfigServiceClient = cached
        return client

    def _shared(self, service: str) -> Any:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._session_locked().client(
                    service,  # type: ignore[call-overload]
                    region_name=self._region_name,
                    endpoint_url=self._endpoint_url,
                    config=self._config,
                )
                self._clients[service] = client
            return client

    def _session_locked(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session()
        return self._session
