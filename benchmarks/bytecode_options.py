"""The ways the Lambda zip could hold its code, each measured: zip size and first invocation.

    python -m benchmarks.bytecode_options [--runs N]

The source-only zip `elm package --source` builds, turned into each form by the runtime's
Python (bytecode is read only by the version that wrote it), then the cold-start probe of
benchmarks/coldstart.py on each, in turns, next to `import boto3` and one client. Prints a
markdown table; needs a Python of the runtime's version on this machine. Not part of `make
bench`: it answers which form `elm package` builds, and why (docs/performance.md).
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from attrs import frozen

from benchmarks import coldstart
from entrypoints.local.lambda_zip import LAMBDA_PYTHON

__all__ = ["OPTIONS", "Form", "main", "measure"]


@frozen
class Form:
    """One way to package the code."""

    name: str
    compiled: bool = True
    optimize: int = 2
    debug_ranges: bool = False
    """Keep each instruction's column ranges (Python's default); else ``-X no_debug_ranges``."""
    keep_source: bool = False
    """Source kept, bytecode in ``__pycache__`` (what `compileall` writes by default)."""
    first_invocation_only: bool = False
    """Bytecode only for the modules the first invocation imports, source for the rest."""


OPTIONS = (
    Form("source only (`elm package --source`)", compiled=False),
    Form(
        "source and `__pycache__` bytecode, optimize 0",
        optimize=0,
        debug_ranges=True,
        keep_source=True,
    ),
    Form("bytecode only, optimize 0", optimize=0, debug_ranges=True),
    Form("bytecode only, optimize 2", debug_ranges=True),
    Form("bytecode only, optimize 0, no debug ranges", optimize=0),
    Form("bytecode only, optimize 2, no debug ranges (what `elm package` builds)"),
    Form(
        "bytecode (optimize 2, no debug ranges) for the modules the first invocation imports, "
        "source for the rest",
        first_invocation_only=True,
    ),
)

_COMPILE = """
import os, py_compile, sys
root, optimize, legacy = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "legacy"
for name in sys.stdin.read().split():
    source = os.path.join(root, name)
    py_compile.compile(
        source, cfile=source + "c" if legacy else None, dfile=name, doraise=True,
        optimize=optimize, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if legacy:
        os.unlink(source)
"""

_LOADED = """
import os, sys
sys.path[:0] = sys.argv[1:]
from entrypoints import lambda_handler
root = sys.argv[1]
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if path and path.startswith(root):
        print(os.path.relpath(path, root))
"""


def _first_invocation_modules(interpreter: coldstart.Interpreter, task: Path) -> set[str]:
    """The package's files the handler's import loads (its one record imports no more)."""
    done = subprocess.run(
        [str(interpreter.executable), "-B", "-S", "-c", _LOADED, str(task), *interpreter.sdk],
        capture_output=True,
        text=True,
        check=True,
        env=coldstart.probe_environment(),
    )
    return set(done.stdout.split())


def _make(form: Form, task: Path, python: Path, first: set[str]) -> None:
    if not form.compiled:
        return
    names = sorted(
        p.relative_to(task).as_posix()
        for p in task.rglob("*.py")
        if not form.first_invocation_only or p.relative_to(task).as_posix() in first
    )
    flags = [] if form.debug_ranges else ["-X", "no_debug_ranges"]
    layout = "cache" if form.keep_source else "legacy"
    subprocess.run(
        [str(python), "-I", *flags, "-c", _COMPILE, str(task), str(form.optimize), layout],
        input="\n".join(names),
        text=True,
        check=True,
        capture_output=True,
    )


def _zip_size(folder: Path) -> int:
    """The folder zipped as `elm package` writes (deflate level 9, fixed times and modes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            out.writestr(info, path.read_bytes(), compresslevel=9)
    return len(buffer.getvalue())


@frozen
class Measured:
    """One form's zip size and median first invocation; the baseline's median."""

    form: Form
    zip_bytes: int
    seconds: float
    baseline: float


def measure(runs: int, forms: Sequence[Form] = OPTIONS) -> list[Measured]:
    """Each form's zip size and first invocation, the probes taking turns within each run."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        interpreter = coldstart.runtime_interpreter(work)
        if interpreter is None:
            raise SystemExit(f"needs a Python {LAMBDA_PYTHON} on this machine (none found)")
        package, why = coldstart.build_package(work, "--source")
        if package is None:
            raise SystemExit(why)
        tasks = []
        for index in range(len(forms)):
            task = work / f"form-{index}"
            with zipfile.ZipFile(package) as archive:
                archive.extractall(task)
            tasks.append(task)
        first = _first_invocation_modules(interpreter, tasks[0])
        for form, task in zip(forms, tasks, strict=True):
            _make(form, task, interpreter.executable, first)
        baseline: list[float] = []
        samples: list[list[float]] = [[] for _ in forms]
        for _ in range(runs):
            baseline.append(coldstart.baseline_seconds(interpreter))
            for task, sample in zip(tasks, samples, strict=True):
                sample.append(coldstart.handler_seconds(interpreter, task))
        middle = statistics.median(baseline)
        return [
            Measured(form, _zip_size(task), statistics.median(sample), middle)
            for form, task, sample in zip(forms, tasks, samples, strict=True)
        ]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bytecode_options")
    parser.add_argument("--runs", type=int, default=15, help="probe runs (median)")
    args = parser.parse_args(argv)
    results = measure(args.runs)
    print(
        f"Python {LAMBDA_PYTHON}, median of {args.runs} runs; boto3 + one client: "
        f"{results[0].baseline * 1000:,.0f} ms\n"
    )
    print("| form | zip | first invocation | adds |")
    print("|---|---|---|---|")
    for r in results:
        print(
            f"| {r.form.name} | {r.zip_bytes:,} bytes ({r.zip_bytes / 1024:,.0f} KB) | "
            f"{r.seconds * 1000:,.0f} ms | {r.seconds / r.baseline - 1:.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
