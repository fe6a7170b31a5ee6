"""Which project modules go into the Lambda zip: those the handlers import, no others."""

from __future__ import annotations

from pathlib import Path

import pytest
from source_tree import write_module

from entrypoints.local.lambda_zip import PackageError, build_lambda_zip, runtime_modules


def test_modules_reachable_from_the_handler_are_packaged_with_their_packages(
    tmp_path: Path,
) -> None:
    write_module(tmp_path, "entrypoints.handler", "from adapters.store import Store\n")
    write_module(tmp_path, "adapters.store", "from domain import rules\nclass Store: ...\n")
    write_module(tmp_path, "domain.rules", "import json\n")
    write_module(tmp_path, "entrypoints.cli.main", "import typer\n")

    found = runtime_modules(tmp_path, ["entrypoints.handler"])

    assert sorted(found) == [
        "adapters",
        "adapters.store",
        "domain",
        "domain.rules",
        "entrypoints",
        "entrypoints.handler",
    ]


def test_imports_for_type_checking_only_are_not_followed(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        "entrypoints.handler",
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from entrypoints.cli import app\n"
        "else:\n"
        "    from entrypoints import settings\n",
    )
    write_module(tmp_path, "entrypoints.cli", "import typer\n")
    write_module(tmp_path, "entrypoints.settings", "")

    assert sorted(runtime_modules(tmp_path, ["entrypoints.handler"])) == [
        "entrypoints",
        "entrypoints.handler",
        "entrypoints.settings",
    ]


def test_relative_and_function_level_imports_are_followed(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        "entrypoints.handler",
        "def build():\n    from .wiring import wire\n    return wire\n",
    )
    write_module(tmp_path, "entrypoints.wiring", "from . import settings\ndef wire(): ...\n")
    write_module(tmp_path, "entrypoints.settings", "")

    assert sorted(runtime_modules(tmp_path, ["entrypoints.handler"])) == [
        "entrypoints",
        "entrypoints.handler",
        "entrypoints.settings",
        "entrypoints.wiring",
    ]


def test_a_missing_handler_module_is_named(tmp_path: Path) -> None:
    write_module(tmp_path, "entrypoints.other", "")

    with pytest.raises(PackageError, match=r"handler module entrypoints\.handler not found"):
        runtime_modules(tmp_path, ["entrypoints.handler"])


def test_runtime_code_importing_a_cli_only_library_stops_the_build(tmp_path: Path) -> None:
    write_module(tmp_path, "entrypoints.handler", "from entrypoints import report\n")
    write_module(tmp_path, "entrypoints.report", "import yaml\n")
    output = tmp_path / "dist" / "elm-lambda.zip"

    with pytest.raises(PackageError, match=r"entrypoints/report\.py imports yaml"):
        build_lambda_zip(output, source_root=tmp_path, handlers=["entrypoints.handler"])
    assert not output.parent.exists()
