"""Fixtures for deploying the templates on moto (in-process ``mock_aws``).

Lambda code is a dummy zip in moto S3: moto cannot run functions (no Docker), and the
deploy tests only need the functions to exist.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import boto3
import pytest
from infra_deploy import CODE_BUCKET, CODE_KEY, PRODUCTION_REGION
from moto import mock_aws
from mypy_boto3_cloudformation import CloudFormationClient


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty emulated AWS with fake credentials, nothing reaching a real endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", PRODUCTION_REGION)
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        yield


@pytest.fixture
def cloudformation(aws: None) -> CloudFormationClient:
    """CloudFormation in the production account."""
    return boto3.client("cloudformation", region_name=PRODUCTION_REGION)


@pytest.fixture
def code_package(aws: None) -> tuple[str, str]:
    """(bucket, key) of a stand-in for the package `elm package` builds."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("entrypoints/__init__.py", "")
    s3 = boto3.client("s3", region_name=PRODUCTION_REGION)
    s3.create_bucket(Bucket=CODE_BUCKET)
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=buffer.getvalue())
    return CODE_BUCKET, CODE_KEY
