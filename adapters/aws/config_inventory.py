"""AWS Config's inventory in the target accounts: STS AssumeRole, then ListDiscoveredResources.

One instance lives as long as the Lambda container: each account's credentials are kept
until a few minutes before they expire, and the clients (STS, and Config per credentials and
region) come from the shared `AwsClients` factory, which makes each once. A warm Lambda
therefore does not assume a role per event.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.clients import AwsClients, Credentials
from adapters.system import SystemClock
from application.errors import TransientError
from application.ports import MAX_IDS_PER_CALL, Clock, ResourceState
from domain.events import is_account_id

if TYPE_CHECKING:
    from mypy_boto3_config import ConfigServiceClient

__all__ = ["DEFAULT_REFRESH_MARGIN", "DEFAULT_SESSION_NAME", "ConfigServiceInventory"]

DEFAULT_REFRESH_MARGIN = timedelta(minutes=5)
"""Credentials are renewed this long before their `Expiration`, so none expire mid-call."""

DEFAULT_SESSION_NAME = "elm"
_SESSION_NAME_FORM = re.compile(r"[\w+=,.@-]{2,64}")
"""What STS accepts as a RoleSessionName (AssumeRole, AWS STS API Reference)."""


class _Assumed:
    """One account's temporary credentials."""

    def __init__(self, credentials: Mapping[str, Any]) -> None:
        self.credentials: Credentials = (
            credentials["AccessKeyId"],
            credentials["SecretAccessKey"],
            credentials["SessionToken"],
        )
        self.expiration: datetime = credentials["Expiration"]


class ConfigServiceInventory:
    """`ResourceInventory` on AWS Config, through a role assumed in each target account."""

    def __init__(
        self,
        clients: AwsClients,
        role_name: str,
        *,
        clock: Clock | None = None,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        session_name: str = DEFAULT_SESSION_NAME,
    ) -> None:
        if not role_name or "/" in role_name or ":" in role_name:
            raise ValueError(f"config role name must be a bare IAM role name (got {role_name!r})")
        if not _SESSION_NAME_FORM.fullmatch(session_name):
            raise ValueError(
                f"role session name must be 2-64 of letters, digits and +=,.@_- "
                f"(got {session_name!r})"
            )
        # CloudTrail in the target account names the session: it tells the processor, the
        # sweep and a person's CLI apart.
        self._session_name = session_name
        self._clients = clients
        self._role_name = role_name
        self._clock: Clock = clock or SystemClock()
        self._refresh_margin = refresh_margin
        self._partition: str | None = None
        self._accounts: dict[str, _Assumed] = {}
        # The sweep may look up from several threads; the credentials are shared.
        self._lock = threading.Lock()

    def lookup(
        self, account_id: str, region: str, resource_type: str, resource_ids: Sequence[str]
    ) -> Mapping[str, ResourceState]:
        """The state of each resource Config reports, by id; see `ResourceInventory.lookup`."""
        ids = list(dict.fromkeys(resource_ids))
        if not ids:
            return {}
        client = self._config_client(account_id, region)
        found: dict[str, ResourceState] = {}
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            chunk = ids[start : start + MAX_IDS_PER_CALL]
            asked = {"resourceIds": chunk}
            for state in self._list(client, account_id, region, resource_type, asked):
                known = found.get(state.resource_id)
                # Should Config ever report an id twice (deleted, then re-created under the
                # same name), the live one wins: an exception is never closed while its
                # resource exists.
                if known is None or known.deleted:
                    found[state.resource_id] = state
        return found

    def lookup_by_name(
        self, account_id: str, region: str, resource_type: str, resource_name: str
    ) -> Sequence[ResourceState]:
        """Every resource Config reports under that name; see `ResourceInventory.lookup_by_name`.

        One `ListDiscoveredResources` request with `resourceName` (it cannot be combined with
        `resourceIds`, so each name is its own call), every page followed. What Config
        returns is passed on as it is, every id under the name: which one counts is the
        caller's decision.
        """
        if not resource_name:
            return ()
        client = self._config_client(account_id, region)
        return tuple(
            self._list(client, account_id, region, resource_type, {"resourceName": resource_name})
        )

    def role_arn(self, account_id: str) -> str:
        """The role ELM assumes in ``account_id``; only ever built from a 12-digit id."""
        if not is_account_id(account_id):
            raise ValueError(f"account id must be 12 digits (got {account_id!r})")
        return f"arn:{self._own_partition()}:iam::{account_id}:role/{self._role_name}"

    def _list(
        self,
        client: ConfigServiceClient,
        account_id: str,
        region: str,
        resource_type: str,
        asked: Mapping[str, Any],
    ) -> Iterator[ResourceState]:
        """Each resource reported for ``asked`` (resourceIds or resourceName), page by page."""
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "resourceType": resource_type,
                **asked,
                "includeDeletedResources": True,
            }
            if token:
                request["nextToken"] = token
            with _transient(f"config:ListDiscoveredResources in {account_id}/{region}"):
                page = client.list_discovered_resources(**request)
            for item in page.get("resourceIdentifiers", []):
                resource_id = item.get("resourceId")
                if not resource_id:
                    continue
                yield ResourceState(
                    resource_type=item.get("resourceType", resource_type),
                    resource_id=resource_id,
                    resource_name=item.get("resourceName") or None,
                    deleted="resourceDeletionTime" in item,
                )
            token = page.get("nextToken")
            if not token:
                return

    def _config_client(self, account_id: str, region: str) -> ConfigServiceClient:
        arn = self.role_arn(account_id)
        with self._lock:
            assumed = self._accounts.get(account_id)
            if assumed is None or self._expiring(assumed):
                assumed = _Assumed(self._assume(arn, account_id, region))
                self._accounts[account_id] = assumed
        # The factory keeps one client per (credentials, region) and drops the oldest.
        with _transient(f"config client for {account_id}/{region}"):
            return self._clients.config(assumed.credentials, region)

    def _expiring(self, assumed: _Assumed) -> bool:
        return self._clock.now() >= assumed.expiration - self._refresh_margin

    def _assume(self, role_arn: str, account_id: str, region: str) -> Mapping[str, Any]:
        with _transient(f"sts:AssumeRole in {account_id}/{region}"):
            response = self._clients.sts().assume_role(
                RoleArn=role_arn, RoleSessionName=self._session_name
            )
        return response["Credentials"]

    def _own_partition(self) -> str:
        if self._partition is None:
            with _transient("sts:GetCallerIdentity (ELM's own identity)"):
                arn = self._clients.sts().get_caller_identity()["Arn"]
            self._partition = arn.split(":")[1]
        return self._partition


@contextmanager
def _transient(where: str) -> Iterator[None]:
    """Turn an SDK error into a one-line `TransientError` saying where it happened."""
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        message = " ".join(str(details.get("Message", "")).split())
        raise TransientError(f"{where} failed: {code}: {message}") from error
    except BotoCoreError as error:
        message = " ".join(str(error).split())
        raise TransientError(f"{where} failed: {message}") from error
