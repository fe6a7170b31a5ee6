"""The `elm` command line on bad settings and bad arguments: one line and an exit status,
never a traceback."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from entrypoints.cli import app
from entrypoints.local import lambda_zip

runner = CliRunner()


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No region anywhere boto3 looks: environment, config file, profile."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)


@pytest.mark.parametrize(
    "args",
    [
        ["rules", "list"],
        ["exceptions", "list"],
        ["process", "EVENT"],
    ],
)
def test_a_missing_region_names_the_setting_and_exits_2(
    no_region: None, args: list[str], tmp_path: Path
) -> None:
    """boto3 reads the region from AWS_DEFAULT_REGION or the profile's ``region`` (Boto3
    guide, "Configuration", environment variables:
    https://boto3.amazonaws.com/v1/documentation/api/latest/guide/configuration.html)."""
    event = tmp_path / "event.json"
    event.write_text('{"detail-type": "Config Rules Compliance Change", "detail": {}}')
    args = [str(event) if a == "EVENT" else a for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "AWS_DEFAULT_REGION" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "You must specify a region" not in result.output


def test_an_endpoint_that_is_not_a_url_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "notaurl")
    result = runner.invoke(app, ["rules", "list"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.strip() == (
        "elm: AWS_ENDPOINT_URL must be a URL such as http://localhost:5000 (got 'notaurl')"
    )


def test_package_into_an_existing_folder_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(app, ["package", "-o", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "is a folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert list(folder.iterdir()) == []


def test_a_zip_that_cannot_be_written_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, entries: object) -> None:
        Path(path).write_bytes(b"half")
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(lambda_zip, "_write_zip", refuse)
    monkeypatch.setattr(lambda_zip, "_pip_install", lambda target, pins: target.mkdir())
    with pytest.raises(lambda_zip.PackageError, match=r"cannot write .*Permission denied"):
        lambda_zip.build_lambda_zip(tmp_path / "elm.zip")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_event_file_is_said_to_be_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    result = runner.invoke(app, ["process", str(empty)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"elm: {empty}: the file is empty (expected one event as JSON)"


def test_version_option_prints_the_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == version("elm")
