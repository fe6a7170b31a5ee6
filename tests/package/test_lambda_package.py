"""`elm package`: the Lambda zip holds the handlers and their dependencies, and nothing else.

These tests build the real package once (pip fetches the pinned dependencies for the Lambda
platform, or takes them from its cache).
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app
from entrypoints.local.lambda_zip import (
    HANDLER_MODULES,
    LAMBDA_PLATFORM,
    LAMBDA_PYTHON,
    PROVIDED_BY_RUNTIME,
    PackageReport,
)

pytestmark = pytest.mark.slow

_INFRA = Path(__file__).resolve().parents[2] / "infra" / "elm-status-update.yaml"


def _names(report: PackageReport) -> list[str]:
    with zipfile.ZipFile(report.path) as archive:
        return archive.namelist()


def _top_levels(report: PackageReport) -> set[str]:
    return {name.split("/")[0] for name in _names(report)}


def test_the_package_holds_both_handlers_and_the_code_they_import(
    built_package: PackageReport,
) -> None:
    names = set(_names(built_package))

    assert {
        "entrypoints/lambda_handler.py",
        "entrypoints/sweep_handler.py",
        "entrypoints/__init__.py",
        "domain/__init__.py",
        "application/handle_change.py",
        "application/reconcile.py",
        "adapters/aws/dynamo_store.py",
    } <= names
    assert "entrypoints.lambda_handler" in built_package.modules


def test_the_package_leaves_out_tests_the_cli_and_what_the_runtime_provides(
    built_package: PackageReport,
) -> None:
    names = _names(built_package)
    tops = _top_levels(built_package)

    assert not [n for n in names if n.startswith(("tests/", "entrypoints/cli/", "benchmarks/"))]
    assert "entrypoints/local/pipeline.py" not in names
    assert "entrypoints/local/scenario/" not in names
    for cli_only in ("typer", "rich", "yaml", "moto", "click", "pytest"):
        assert cli_only not in tops
    for provided in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil"):
        assert provided not in tops
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_the_package_carries_the_installed_versions_of_the_runtime_requirements(
    built_package: PackageReport,
) -> None:
    tops = _top_levels(built_package)

    for distribution in ("attrs", "injector", "aws-lambda-powertools"):
        pin = f"=={metadata.version(distribution)}"
        assert any(d.endswith(pin) for d in built_package.dependencies), distribution
    assert {"attr", "attrs", "injector", "aws_lambda_powertools"} <= tops
    assert not {d.split("==")[0].lower() for d in built_package.dependencies} & set(
        PROVIDED_BY_RUNTIME
    )


def test_every_entry_has_a_fixed_time_and_read_only_permissions(
    built_package: PackageReport,
) -> None:
    with zipfile.ZipFile(built_package.path) as archive:
        infos = archive.infolist()

    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_the_handlers_import_from_the_package_alone_with_the_runtime_sdk(
    built_package: PackageReport, tmp_path: Path
) -> None:
    # The Lambda runtime provides boto3 and its dependencies: link only those from this venv.
    provided = tmp_path / "runtime"
    provided.mkdir()
    for top in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py"):
        source = Path(sys.prefix).glob(f"lib/python*/site-packages/{top}")
        for path in source:
            (provided / path.name).symlink_to(path)
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(built_package.path)!r}, {str(provided)!r}]\n"
        "import entrypoints.lambda_handler, entrypoints.sweep_handler\n"
        "assert callable(entrypoints.lambda_handler.handler)\n"
        "assert callable(entrypoints.sweep_handler.handler)\n"
        "import typer\n"
    )

    # -S: no site-packages, -I: no PYTHONPATH or user site. The final import must fail:
    # it proves the venv's packages were out of reach.
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-S", "-I", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.strip().endswith("No module named 'typer'"), completed.stderr


def test_the_package_targets_the_handlers_and_runtime_the_template_declares() -> None:
    template = _INFRA.read_text(encoding="utf-8")
    handlers = re.findall(r"^\s+Handler: ([\w.]+)\.handler$", template, flags=re.M)
    runtimes = set(re.findall(r"^\s+Runtime: (\S+)$", template, flags=re.M))
    architectures = set(re.findall(r"^\s+Architectures: (.+)$", template, flags=re.M))

    assert sorted(handlers) == sorted(HANDLER_MODULES)
    assert runtimes == {f"python{LAMBDA_PYTHON}"}
    assert architectures == {"[arm64]"}
    assert LAMBDA_PLATFORM.endswith("aarch64")


def test_elm_package_builds_the_same_bytes_again_and_prints_their_size(
    built_package: PackageReport, tmp_path: Path
) -> None:
    output = tmp_path / "dist" / "elm-lambda.zip"

    result = CliRunner().invoke(app, ["package", "--output", str(output)])

    assert result.exit_code == 0, result.output
    assert output.read_bytes() == built_package.path.read_bytes()
    assert f"({output.stat().st_size:,} bytes)" in result.output
    assert str(output) in result.output
