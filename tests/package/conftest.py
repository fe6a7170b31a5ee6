"""Fixtures for the Lambda package: one real build shared by the tests that read it."""

from __future__ import annotations

import pytest

from entrypoints.local.lambda_zip import PackageReport, build_lambda_zip


@pytest.fixture(scope="session")
def built_package(tmp_path_factory: pytest.TempPathFactory) -> PackageReport:
    """The Lambda zip of this source tree (pip fetches the dependencies, or takes them from
    its cache)."""
    return build_lambda_zip(tmp_path_factory.mktemp("package") / "elm-lambda.zip")
