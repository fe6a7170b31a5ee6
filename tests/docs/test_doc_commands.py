"""The shell commands the README and docs/ show exist as written.

Every `elm` command line in a ```sh block names a real command and only options that
command has (checked against its own `--help`); the ones that need no AWS account and
finish in seconds (`elm simulate`, `--help`, `--version`, `make -n`) are run as written.
A block preceded by ``<!-- aws -->`` needs an AWS account: its `elm` lines are still
checked against `--help`, none is run.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"(<!-- aws -->\s*)?```(?:sh|bash|shell)\n(.*?)```", re.S)


def _lines(text: str) -> list[tuple[str, bool]]:
    """Each command line of the sh blocks (continuations joined), and whether it is AWS-only."""
    found = []
    for match in _BLOCK.finditer(text):
        aws_only = match.group(1) is not None
        joined = match.group(2).replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].split(" # ", 1)[0].strip()
            if line and not line.startswith("#"):
                found.append((line, aws_only))
    return found


def _elm_commands() -> list[tuple[str, str, bool]]:
    commands = []
    for path in DOCS:
        for line, aws_only in _lines(path.read_text(encoding="utf-8")):
            words = line.split()
            if words and words[0] in ("elm", ".venv/bin/elm"):
                commands.append((path.name, line, aws_only))
    return commands


COMMANDS = _elm_commands()


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_the_docs_show_elm_commands() -> None:
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize(("doc", "line", "aws_only"), COMMANDS, ids=[c[1][:60] for c in COMMANDS])
def test_each_documented_elm_command_and_option_exists(doc: str, line: str, aws_only: bool) -> None:
    words = shlex.split(line)[1:]
    path = []
    for word in words:
        if word.startswith("-"):
            break
        code, _ = _invoke(*path, word, "--help")
        if code != 0:
            break
        path.append(word)
    assert path or words[0] in ("--version", "--help"), f"{doc}: {line}: no such command"
    code, help_text = _invoke(*path, "--help")
    assert code == 0, f"{doc}: {line}"
    for option in (w.split("=", 1)[0] for w in words if w.startswith("--")):
        assert option in help_text, f"{doc}: {line}: `elm {' '.join(path)}` has no {option}"


LOCAL = [c for c in COMMANDS if not c[2] and c[1].split()[1:2] in (["simulate"], ["--version"])]


@pytest.mark.parametrize(("doc", "line", "aws_only"), LOCAL, ids=[c[1][:60] for c in LOCAL])
def test_the_local_commands_run_as_written(doc: str, line: str, aws_only: bool) -> None:
    code, output = _invoke(*shlex.split(line)[1:])
    assert code == 0, f"{doc}: {line}\n{output}"


@pytest.mark.parametrize("target", ["demo", "test", "simulate", "package", "check"])
def test_the_make_targets_the_docs_name_exist(target: str) -> None:
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(  # noqa: S603 (make -n: prints the recipe, runs nothing)
        [make, "-n", target], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
