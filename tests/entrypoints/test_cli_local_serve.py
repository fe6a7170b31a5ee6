"""`elm local --serve`: the local AWS stays up for every other `elm` command, until Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from entrypoints.cli.local import SERVING_MARK

ELM = [sys.executable, "-c", "from entrypoints.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[2]
_STARTUP_LIMIT = 300.0
"""Seconds to wait for the server to come up on a loaded machine; not a timing assertion."""


def _exports(lines: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in lines:
        words = line.split()
        if words[:1] == ["export"]:
            name, _, value = words[1].partition("=")
            values[name] = value
    return values


def _read_until_served(process: subprocess.Popen[str]) -> list[str]:
    """stdout up to the line after the exports; read on a thread, so a silent process
    fails the test instead of hanging it."""
    assert process.stdout is not None
    stream = process.stdout
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line)
        lines.put("")  # the end of stdout

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=_STARTUP_LIMIT)
        except queue.Empty:
            pytest.fail("elm local --serve printed nothing for too long:\n" + "".join(seen))
        if not line:
            pytest.fail("elm local --serve ended before serving:\n" + "".join(seen))
        seen.append(line)
        if line.startswith("then any elm command"):
            return seen


@pytest.mark.moto
def test_serve_prints_exports_that_other_commands_use_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ELM_"))}
    env["COLUMNS"] = "200"
    process = subprocess.Popen(  # noqa: S603 - the test's own command line
        [*ELM, "local", "--serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _read_until_served(process)
        assert any(line.startswith(SERVING_MARK) for line in lines)
        exports = _exports(lines)
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert {"AWS_DEFAULT_REGION", "ELM_RULES_TABLE", "ELM_EXCEPTIONS_TABLE"} <= set(exports)

        rules = subprocess.run(  # noqa: S603 - the test's own command line
            [*ELM, "rules", "list", "--json"],
            cwd=tmp_path,
            env={**env, **exports, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert rules.returncode == 0, rules.stderr
        assert "prod-sg-no-open-ingress" in rules.stdout

        process.send_signal(signal.SIGINT)
        process.wait(timeout=_STARTUP_LIMIT)
        assert process.stderr is not None
        stderr = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "stopping the local AWS" in stderr
