"""`ConfigServiceInventory`: STS AssumeRole into the target account, then ListDiscoveredResources.

Two harnesses, each for what it can prove:
- moto (`mock_aws`) for the STS flow: AssumeRole into another account works there and the
  credentials address that account, so caching per account and renewal near expiry are
  measured by counting AssumeRole calls with a botocore event hook.
- botocore's `Stubber` for ListDiscoveredResources, because moto's Config ignores
  `includeDeletedResources`: a deleted resource simply disappears there, never with
  `resourceDeletionTime`. The stubbed responses have the real service's shapes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto_sessions import RecordingSession, StubbedSession
from botocore.exceptions import ReadTimeoutError

from adapters.aws.clients import AwsClients
from adapters.aws.config_inventory import ConfigServiceInventory
from adapters.in_memory import FixedClock
from application.errors import TransientError
from application.ports import ResourceState

TARGET = "222233334444"
OTHER = "555566667777"
REGION = "eu-west-1"
BUCKET = "AWS::S3::Bucket"
SG = "AWS::EC2::SecurityGroup"
ROLE = "AWS::IAM::Role"
DELETED_AT = datetime(2026, 3, 4, 10, 15, 2, tzinfo=UTC)


def _inventory(session: Any) -> ConfigServiceInventory:
    return ConfigServiceInventory(AwsClients(session), "Role-Config-Mgmt")


# --- the STS flow, on moto ---------------------------------------------------------------


@pytest.fixture
def recording(moto: None) -> RecordingSession:
    return RecordingSession(region_name="us-east-1")


@pytest.fixture
def sts_calls(recording: RecordingSession) -> Counter[str]:
    """How many times each STS operation was called, and with which role ARNs."""
    calls: Counter[str] = Counter()

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        if model.name == "AssumeRole":
            calls[params["RoleArn"]] += 1

    recording.events.register("provide-client-params.sts.*", count)
    return calls


def _bucket_in(account_id: str, name: str) -> None:
    """Create a bucket in another account, as that account's own credentials would."""
    sts = boto3.client("sts", region_name="us-east-1")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).create_bucket(Bucket=name)


def test_reads_the_inventory_of_the_target_account_through_the_named_role(
    recording: RecordingSession, sts_calls: Counter[str]
) -> None:
    _bucket_in(TARGET, "target-bucket")
    inventory = _inventory(recording)

    found = inventory.lookup(TARGET, "us-east-1", BUCKET, ["target-bucket"])

    assert found == {
        "target-bucket": ResourceState(BUCKET, "target-bucket", "target-bucket", deleted=False)
    }
    assert sts_calls[f"arn:aws:iam::{TARGET}:role/Role-Config-Mgmt"] == 1
    # The bucket exists only in the target account: the credentials were the assumed ones.
    assert inventory.lookup(OTHER, "us-east-1", BUCKET, ["target-bucket"]) == {}


def test_a_role_config_reports_by_its_role_id_is_found_by_its_name(
    recording: RecordingSession,
) -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{TARGET}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    role_id = iam.create_role(RoleName="app-role", AssumeRolePolicyDocument="{}")["Role"]["RoleId"]
    inventory = _inventory(recording)

    assert inventory.lookup(TARGET, "us-east-1", ROLE, ["app-role"]) == {}
    assert inventory.lookup_by_name(TARGET, "us-east-1", ROLE, "app-role") == (
        ResourceState(ROLE, role_id, "app-role", deleted=False),
    )
    assert inventory.lookup_by_name(TARGET, "us-east-1", ROLE, "no-such-role") == ()


def test_credentials_are_assumed_once_per_account_and_the_partition_looked_up_once(
    recording: RecordingSession, sts_calls: Counter[str]
) -> None:
    inventory = _inventory(recording)

    for _ in range(3):
        inventory.lookup(TARGET, "us-east-1", BUCKET, ["a"])
        inventory.lookup(TARGET, "eu-west-1", BUCKET, ["a"])
        inventory.lookup(OTHER, "us-east-1", BUCKET, ["a"])

    assert sts_calls["AssumeRole"] == 2
    assert sts_calls[f"arn:aws:iam::{TARGET}:role/Role-Config-Mgmt"] == 1
    assert sts_calls[f"arn:aws:iam::{OTHER}:role/Role-Config-Mgmt"] == 1
    assert sts_calls["GetCallerIdentity"] == 1


def test_credentials_are_renewed_a_few_minutes_before_they_expire(
    recording: RecordingSession, sts_calls: Counter[str]
) -> None:
    # moto's credentials expire an hour after AssumeRole, by the wall clock.
    clock = FixedClock(datetime.now(UTC))
    inventory = ConfigServiceInventory(
        AwsClients(recording), "Role-Config-Mgmt", clock=clock, refresh_margin=timedelta(minutes=5)
    )
    inventory.lookup(TARGET, "us-east-1", BUCKET, ["a"])

    clock.advance(timedelta(minutes=50))
    inventory.lookup(TARGET, "us-east-1", BUCKET, ["a"])
    assert sts_calls["AssumeRole"] == 1

    clock.advance(timedelta(minutes=6))
    inventory.lookup(TARGET, "us-east-1", BUCKET, ["a"])
    assert sts_calls["AssumeRole"] == 2


def test_clients_are_made_lazily_once_per_account_and_region_with_retries_and_timeouts(
    recording: RecordingSession,
) -> None:
    inventory = _inventory(recording)
    assert recording.client_requests == []

    for _ in range(2):
        inventory.lookup(TARGET, "us-east-1", BUCKET, ["a"])
        inventory.lookup(TARGET, "eu-west-1", BUCKET, ["a"])

    made = [(service, kwargs.get("region_name")) for service, kwargs in recording.client_requests]
    assert made == [("sts", None), ("config", "us-east-1"), ("config", "eu-west-1")]
    for _, kwargs in recording.client_requests:
        config = kwargs["config"]
        assert config.retries["mode"] == "standard"
        assert config.connect_timeout is not None
        assert config.read_timeout is not None


def test_an_account_id_that_is_not_twelve_digits_never_reaches_sts(
    recording: RecordingSession, sts_calls: Counter[str]
) -> None:
    inventory = _inventory(recording)

    for bad in ("12345678901", "1234567890123", "22223333444a", "*", "222233334444:role/x"):
        with pytest.raises(ValueError, match="12 digits"):
            inventory.lookup(bad, "us-east-1", BUCKET, ["a"])

    assert sts_calls["AssumeRole"] == 0


@pytest.mark.parametrize("role_name", ["", "path/Role", "arn:aws:iam::1:role/x"])
def test_a_role_name_that_is_not_a_bare_name_is_refused(role_name: str) -> None:
    with pytest.raises(ValueError, match="bare IAM role name"):
        ConfigServiceInventory(AwsClients(), role_name)


# --- ListDiscoveredResources shapes and errors, on Stubber --------------------------------


def _identity(partition: str = "aws") -> dict[str, Any]:
    return {
        "UserId": "AROAEXAMPLE:elm",
        "Account": "111122223333",
        "Arn": f"arn:{partition}:sts::111122223333:assumed-role/elm-lambda/elm",
    }


def _credentials(expiration: datetime) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": expiration,
        },
        "AssumedRoleUser": {
            "AssumedRoleId": "AROAEXAMPLE:elm",
            "Arn": f"arn:aws:sts::{TARGET}:assumed-role/Role-Config-Mgmt/elm",
        },
    }


def _expect_assume(
    session: StubbedSession, partition: str = "aws", account_id: str = TARGET
) -> None:
    session.sts.add_response("get_caller_identity", _identity(partition), {})
    session.sts.add_response(
        "assume_role",
        _credentials(datetime.now(UTC) + timedelta(hours=1)),
        {
            "RoleArn": f"arn:{partition}:iam::{account_id}:role/Role-Config-Mgmt",
            "RoleSessionName": "elm",
        },
    )


def _item(resource_id: str, name: str | None = None, *, deleted: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {"resourceType": SG, "resourceId": resource_id}
    if name is not None:
        item["resourceName"] = name
    if deleted:
        item["resourceDeletionTime"] = DELETED_AT
    return item


def _expect_list(
    session: StubbedSession,
    ids: list[str],
    items: list[dict[str, Any]],
    *,
    token: str | None = None,
    next_token: str | None = None,
) -> None:
    expected: dict[str, Any] = {
        "resourceType": SG,
        "resourceIds": ids,
        "includeDeletedResources": True,
    }
    if token is not None:
        expected["nextToken"] = token
    response: dict[str, Any] = {"resourceIdentifiers": items}
    if next_token is not None:
        response["nextToken"] = next_token
    session.config.add_response("list_discovered_resources", response, expected)


def test_deleted_only_when_config_returns_a_deletion_time(
    stubbed_session: StubbedSession,
) -> None:
    _expect_assume(stubbed_session)
    _expect_list(
        stubbed_session,
        ["sg-gone", "sg-live", "sg-unknown"],
        [_item("sg-gone", "web", deleted=True), _item("sg-live", "db")],
    )
    inventory = _inventory(stubbed_session)

    found = inventory.lookup(TARGET, REGION, SG, ["sg-gone", "sg-live", "sg-unknown"])

    assert found == {
        "sg-gone": ResourceState(SG, "sg-gone", "web", deleted=True),
        "sg-live": ResourceState(SG, "sg-live", "db", deleted=False),
    }


def test_follows_next_token_to_the_page_that_holds_the_resource(
    stubbed_session: StubbedSession,
) -> None:
    _expect_assume(stubbed_session)
    _expect_list(stubbed_session, ["sg-1", "sg-2"], [_item("sg-1")], next_token="page-2")
    _expect_list(stubbed_session, ["sg-1", "sg-2"], [_item("sg-2", deleted=True)], token="page-2")
    inventory = _inventory(stubbed_session)

    found = inventory.lookup(TARGET, REGION, SG, ["sg-1", "sg-2"])

    assert found["sg-2"].deleted
    assert not found["sg-1"].deleted


def test_asks_for_at_most_twenty_ids_a_call(stubbed_session: StubbedSession) -> None:
    ids = [f"sg-{n:02d}" for n in range(45)]
    _expect_assume(stubbed_session)
    for chunk in (ids[0:20], ids[20:40], ids[40:45]):
        _expect_list(stubbed_session, chunk, [_item(i, deleted=True) for i in chunk])
    inventory = _inventory(stubbed_session)

    found = inventory.lookup(TARGET, REGION, SG, ids + ids[:5])

    assert sorted(found) == ids
    # The Stubber fails on a fourth call or on a chunk other than the three queued.


def test_a_resource_reported_live_and_deleted_counts_as_live(
    stubbed_session: StubbedSession,
) -> None:
    _expect_assume(stubbed_session)
    _expect_list(
        stubbed_session,
        ["my-bucket"],
        [_item("my-bucket", deleted=True), _item("my-bucket"), _item("my-bucket", deleted=True)],
    )
    inventory = _inventory(stubbed_session)

    assert not inventory.lookup(TARGET, REGION, SG, ["my-bucket"])["my-bucket"].deleted


def _expect_name(
    session: StubbedSession,
    name: str,
    items: list[dict[str, Any]],
    *,
    token: str | None = None,
    next_token: str | None = None,
) -> None:
    expected: dict[str, Any] = {
        "resourceType": SG,
        "resourceName": name,
        "includeDeletedResources": True,
    }
    if token is not None:
        expected["nextToken"] = token
    response: dict[str, Any] = {"resourceIdentifiers": items}
    if next_token is not None:
        response["nextToken"] = next_token
    session.config.add_response("list_discovered_resources", response, expected)


def test_by_name_asks_for_the_name_alone_and_passes_on_every_resource_reported(
    stubbed_session: StubbedSession,
) -> None:
    # A deleted resource and the one re-created under its name: both are reported, and
    # which one counts is the caller's decision.
    _expect_assume(stubbed_session)
    _expect_name(
        stubbed_session,
        "web",
        [_item("sg-old", "web", deleted=True), _item("sg-new", "web")],
        next_token="page-2",
    )
    _expect_name(stubbed_session, "web", [_item("sg-older", "web", deleted=True)], token="page-2")
    inventory = _inventory(stubbed_session)

    found = inventory.lookup_by_name(TARGET, REGION, SG, "web")

    assert found == (
        ResourceState(SG, "sg-old", "web", deleted=True),
        ResourceState(SG, "sg-new", "web", deleted=False),
        ResourceState(SG, "sg-older", "web", deleted=True),
    )
    # The Stubber checked each request: resourceName, no resourceIds, deleted included.


def test_by_name_with_no_name_makes_no_call(stubbed_session: StubbedSession) -> None:
    inventory = _inventory(stubbed_session)

    assert inventory.lookup_by_name(TARGET, REGION, SG, "") == ()
    assert stubbed_session.client_requests == []


def test_by_name_a_config_error_is_a_transient_error_naming_account_and_region(
    stubbed_session: StubbedSession,
) -> None:
    _expect_assume(stubbed_session)
    stubbed_session.config.add_client_error(
        "list_discovered_resources",
        service_error_code="ThrottlingException",
        service_message="slow",
    )
    inventory = _inventory(stubbed_session)

    with pytest.raises(TransientError) as raised:
        inventory.lookup_by_name(TARGET, REGION, SG, "web")

    assert str(raised.value) == (
        f"config:ListDiscoveredResources in {TARGET}/{REGION} failed: ThrottlingException: slow"
    )


def test_by_name_shares_the_credentials_assumed_for_calls_by_id(
    stubbed_session: StubbedSession,
) -> None:
    _expect_assume(stubbed_session)  # one AssumeRole queued: a second would fail the Stubber
    _expect_list(stubbed_session, ["sg-1"], [])
    _expect_name(stubbed_session, "web", [_item("sg-9", "web", deleted=True)])
    inventory = _inventory(stubbed_session)

    assert inventory.lookup(TARGET, REGION, SG, ["sg-1"]) == {}
    assert inventory.lookup_by_name(TARGET, REGION, SG, "web")[0].deleted


def test_the_partition_comes_from_the_callers_own_identity(
    stubbed_session: StubbedSession,
) -> None:
    _expect_assume(stubbed_session, partition="aws-us-gov")
    _expect_list(stubbed_session, ["sg-1"], [])
    inventory = _inventory(stubbed_session)

    assert inventory.lookup(TARGET, "us-gov-west-1", SG, ["sg-1"]) == {}
    # The Stubber checked AssumeRole's RoleArn: arn:aws-us-gov:iam::<account>:role/...


def test_no_ids_means_no_call(stubbed_session: StubbedSession) -> None:
    inventory = _inventory(stubbed_session)

    assert inventory.lookup(TARGET, REGION, SG, []) == {}
    assert stubbed_session.client_requests == []


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "AccessDeniedException",
        "NoAvailableConfigurationRecorderException",
        "ValidationException",
    ],
)
def test_a_config_error_is_a_transient_error_naming_account_region_and_operation(
    stubbed_session: StubbedSession, code: str
) -> None:
    _expect_assume(stubbed_session)
    stubbed_session.config.add_client_error(
        "list_discovered_resources", service_error_code=code, service_message="no\nway"
    )
    inventory = _inventory(stubbed_session)

    with pytest.raises(TransientError) as raised:
        inventory.lookup(TARGET, REGION, SG, ["sg-1"])

    message = str(raised.value)
    assert message == (
        f"config:ListDiscoveredResources in {TARGET}/{REGION} failed: {code}: no way"
    )


def test_a_denied_assume_role_is_a_transient_error_and_is_tried_again_next_time(
    stubbed_session: StubbedSession,
) -> None:
    stubbed_session.sts.add_response("get_caller_identity", _identity(), {})
    stubbed_session.sts.add_client_error(
        "assume_role", service_error_code="AccessDenied", service_message="not authorized"
    )
    inventory = _inventory(stubbed_session)

    with pytest.raises(TransientError, match=f"sts:AssumeRole in {TARGET}/{REGION} failed: Acc"):
        inventory.lookup(TARGET, REGION, SG, ["sg-1"])

    stubbed_session.sts.add_response(
        "assume_role", _credentials(datetime.now(UTC) + timedelta(hours=1))
    )
    _expect_list(stubbed_session, ["sg-1"], [_item("sg-1", deleted=True)])
    assert inventory.lookup(TARGET, REGION, SG, ["sg-1"])["sg-1"].deleted


def test_a_timeout_is_a_transient_error(stubbed_session: StubbedSession) -> None:
    _expect_assume(stubbed_session)

    def time_out(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://config.eu-west-1.amazonaws.com/")

    stubbed_session.clients["config"].meta.events.register(
        "before-call.config.ListDiscoveredResources", time_out
    )
    inventory = _inventory(stubbed_session)

    with pytest.raises(TransientError, match=f"ListDiscoveredResources in {TARGET}/{REGION}.*"):
        inventory.lookup(TARGET, REGION, SG, ["sg-1"])


def test_a_failed_identity_lookup_is_a_transient_error_and_assumes_nothing(
    stubbed_session: StubbedSession,
) -> None:
    stubbed_session.sts.add_client_error(
        "get_caller_identity", service_error_code="ExpiredToken", service_message="expired"
    )
    inventory = _inventory(stubbed_session)

    with pytest.raises(TransientError, match=r"sts:GetCallerIdentity .* ExpiredToken: expired"):
        inventory.lookup(TARGET, REGION, SG, ["sg-1"])


def test_a_region_botocore_refuses_is_a_transient_error_not_a_crash(
    recording: RecordingSession,
) -> None:
    # The sweep reads regions from the table, where nothing validates them.
    inventory = _inventory(recording)

    with pytest.raises(TransientError, match=f"config client for {TARGET}/eu west 1"):
        inventory.lookup(TARGET, "eu west 1", BUCKET, ["a"])
