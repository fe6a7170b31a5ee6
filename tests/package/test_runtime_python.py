"""Finding an interpreter of the Lambda runtime's Python, to compile the package with."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.local.lambda_zip import LAMBDA_PYTHON, runtime_python


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_a_pyenv_shim_that_does_not_run_is_passed_over_for_pyenvs_newest_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyenv shim is on the PATH for every installed version but runs only the selected
    one ("pyenv: python3.13: command not found", exit 127); the versions folder is read
    instead, newest patch release first."""
    shims = tmp_path / "shims"
    _script(shims / f"python{LAMBDA_PYTHON}", "echo 'pyenv: command not found' >&2; exit 127")
    versions = tmp_path / "pyenv" / "versions"
    for release in ("2", "10", "9"):
        _script(
            versions / f"{LAMBDA_PYTHON}.{release}" / "bin" / f"python{LAMBDA_PYTHON}",
            f"echo {LAMBDA_PYTHON}",
        )
    monkeypatch.setenv("PATH", str(shims))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))

    found = runtime_python()

    assert found == versions / f"{LAMBDA_PYTHON}.10" / "bin" / f"python{LAMBDA_PYTHON}"


def test_an_interpreter_of_another_version_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _script(tmp_path / "bin" / f"python{LAMBDA_PYTHON}", "echo 3.11")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))

    assert runtime_python() is None


def test_the_one_on_the_path_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _script(tmp_path / "bin" / f"python{LAMBDA_PYTHON}", f"echo {LAMBDA_PYTHON}")
    _script(
        tmp_path / "pyenv" / "versions" / f"{LAMBDA_PYTHON}.1" / "bin" / f"python{LAMBDA_PYTHON}",
        f"echo {LAMBDA_PYTHON}",
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))

    assert runtime_python() == on_path
