"""Figure 5: cold start. The handler module's import next to boto3's, and the zip's size."""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.report import Met, Row, Section, ratio

__all__ = [
    "HANDLER_MODULE",
    "MAX_ADDED_FRACTION",
    "MAX_ZIP_BYTES",
    "cold_start",
    "import_seconds",
    "package_size",
]

HANDLER_MODULE = "entrypoints.lambda_handler"
MAX_ADDED_FRACTION = 0.60
MAX_ZIP_BYTES = 5 * 1024 * 1024

_PROBE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({module!r}); "
    "print(time.perf_counter() - t)"
)


def _import_once(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def import_seconds(modules: list[str], runs: int) -> dict[str, float]:
    """Median wall time to import each module in a fresh interpreter (start-up excluded).

    The modules take turns within each run, so a machine that slows down mid-way slows
    them alike.
    """
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(runs):
        for module in modules:
            samples[module].append(_import_once(module))
    return {m: statistics.median(s) for m, s in samples.items()}


def _cli_commands() -> set[str]:
    from entrypoints.cli import app

    return {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}


def package_size() -> tuple[int | None, str]:
    """The size of the zip `elm package` builds, or None and why it could not be built."""
    elm = Path(sys.executable).with_name("elm")
    if not elm.exists() or shutil.which(str(elm)) is None:
        return None, "the `elm` command is not installed"
    if "package" not in _cli_commands():
        return None, "`elm package` is not built yet"
    with tempfile.TemporaryDirectory() as work:
        output = Path(work) / "elm-lambda.zip"
        done = subprocess.run(
            [str(elm), "package", "--output", str(output)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            return None, "`elm package` failed: " + (reason[-1] if reason else "no output")
        zips = [output] if output.exists() else sorted(Path(work).glob("*.zip"))
        if not zips:
            return None, "`elm package --output` wrote no zip"
        return zips[0].stat().st_size, ""


def cold_start(runs: int) -> Section:
    """The figure: import times side by side, and the package size."""
    method = (
        f"Each import in a fresh `{Path(sys.executable).name}` (subprocess), timed inside it "
        f"with time.perf_counter around importlib.import_module (interpreter start-up "
        f"excluded), median of {runs} runs taken in turns: boto3 alone, then the handler "
        f"module (which imports boto3 itself). Added = handler / boto3 - 1. Zip: the "
        f"file `elm package --output` writes."
    )
    rows = []
    notes = []
    if importlib.util.find_spec(HANDLER_MODULE) is None:
        boto3_time = import_seconds(["boto3"], runs)["boto3"]
        rows.append(
            Row(
                "import of the handler vs boto3 alone",
                f"not measured: {HANDLER_MODULE} is not built yet",
                f"boto3: {boto3_time * 1000:,.0f} ms",
                target="adds <= 60%",
                met=Met.NOT_MEASURED,
            )
        )
    else:
        times = import_seconds(["boto3", HANDLER_MODULE], runs)
        boto3_time, handler_time = times["boto3"], times[HANDLER_MODULE]
        added = handler_time / boto3_time - 1
        rows.append(
            Row(
                "import of the handler vs boto3 alone",
                f"{handler_time * 1000:,.0f} ms (adds {added:.0%})",
                f"boto3 alone: {boto3_time * 1000:,.0f} ms",
                ratio(handler_time, boto3_time),
                "adds <= 60%",
                Met.of(added <= MAX_ADDED_FRACTION),
            )
        )
        if added > MAX_ADDED_FRACTION:
            notes.append(
                "Missed: the handler's import pulls in more than boto3 (see `python -X "
                f"importtime -c 'import {HANDLER_MODULE}'` for the biggest modules). What "
                "would fix it: import the heavy modules lazily, inside the code path that "
                "needs them."
            )
    size, why = package_size()
    if size is None:
        rows.append(
            Row(
                "`elm package` zip size",
                f"not measured: {why}",
                target="<= 5 MB",
                met=Met.NOT_MEASURED,
            )
        )
    else:
        rows.append(
            Row(
                "`elm package` zip size",
                f"{size / 1024 / 1024:.2f} MB",
                target="<= 5 MB",
                met=Met.of(size <= MAX_ZIP_BYTES),
            )
        )
    return Section("Cold start", method, tuple(rows), tuple(notes))
