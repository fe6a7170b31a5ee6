"""The Lambda package: the handlers' code and their dependencies, as a reproducible zip.

What goes in is derived, not listed: the project modules the Lambda handlers import (followed
through the source, `if TYPE_CHECKING:` blocks excepted), and the installed distributions the
project's runtime requirements resolve to, minus those the Lambda runtime provides (boto3 and
its dependencies). Dependencies are pinned to the versions installed here, the ones the tests
ran against, and installed by pip for the Lambda's platform. The zip has sorted entries, fixed
timestamps and fixed permissions, so one source tree and one set of versions always give the
same bytes.
"""

from __future__ import annotations

import ast
import csv
import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path

from attrs import frozen
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = [
    "DEFAULT_OUTPUT",
    "HANDLER_MODULES",
    "LAMBDA_PLATFORM",
    "LAMBDA_PYTHON",
    "PROVIDED_BY_RUNTIME",
    "TRIMMED_PACKAGES",
    "PackageError",
    "PackageReport",
    "build_lambda_zip",
    "code_zip",
    "runtime_modules",
    "runtime_requirements",
]

LAMBDA_PYTHON = "3.14"
"""The Lambda runtime's Python (infra/elm-status-update.yaml: `Runtime: python3.14`)."""
LAMBDA_PLATFORM = "manylinux2014_aarch64"
"""The Lambda's platform (`Architectures: [arm64]`), for any dependency with binaries."""
HANDLER_MODULES = ("entrypoints.lambda_handler", "entrypoints.sweep_run_handler")
"""The modules the templates name as handlers: everything packaged is reachable from them."""
PROJECT_PACKAGES = ("domain", "application", "adapters", "entrypoints")
PROVIDED_BY_RUNTIME = frozenset(
    canonicalize_name(name)
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
)
"""Distributions the Lambda Python runtime already has (the AWS SDK and its dependencies)."""
DEFAULT_OUTPUT = Path("dist/elm-lambda.zip")
TRIMMED_PACKAGES = frozenset({"aws_lambda_powertools"})
"""Dependencies packaged as far as the handlers import them: Powertools ships many
utilities (an OpenAPI UI bundle among them) that ELM never imports."""

# The earliest time a zip entry can carry; any fixed value makes builds reproducible.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # a regular file, rw-r--r--: Lambda needs only read access
_UNIX = 3
_PROJECT = "elm"
# The marker environment of the Lambda runtime, to know which requirements apply there.
_TARGET_ENVIRONMENT = {
    "python_version": LAMBDA_PYTHON,
    "python_full_version": f"{LAMBDA_PYTHON}.0",
    "implementation_name": "cpython",
    "implementation_version": f"{LAMBDA_PYTHON}.0",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "extra": "",
}


class PackageError(Exception):
    """The package cannot be built; the message is one line saying why."""


@frozen
class PackageReport:
    """What `build_lambda_zip` wrote."""

    path: Path
    size: int
    files: int
    modules: tuple[str, ...]
    """The project modules packaged, by dotted name."""
    dependencies: tuple[str, ...]
    """The distributions packaged, as ``name==version``."""


def build_lambda_zip(
    output: Path = DEFAULT_OUTPUT,
    *,
    source_root: Path | None = None,
    handlers: Sequence[str] = HANDLER_MODULES,
) -> PackageReport:
    """Build the Lambda zip at ``output`` (its directory is created); raise `PackageError`."""
    if output.is_dir():
        raise PackageError(
            f"{output} is a folder; give the zip's file name, e.g. {output / 'elm-lambda.zip'}"
        )
    root = source_root or _source_root()
    modules = runtime_modules(root, handlers)
    pins = runtime_requirements()
    _check_imports(root, modules, pins)
    with tempfile.TemporaryDirectory(prefix="elm-package-") as scratch:
        target = Path(scratch) / "site"
        _pip_install(target, pins)
        entries = _imported_only(dict(_dependency_files(target)), target, root, modules)
        for name, path in modules.items():
            arcname = path.relative_to(root).as_posix()
            if arcname in entries:
                raise PackageError(f"{arcname} is both project code ({name}) and a dependency's")
            entries[arcname] = path.read_bytes()
        output.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the output and renamed, so a failed build leaves no half zip.
        partial = output.with_name(output.name + ".partial")
        try:
            _write_zip(partial, entries)
            partial.replace(output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise PackageError(f"cannot write {output}: {error.strerror or error}") from None
    return PackageReport(
        path=output,
        size=output.stat().st_size,
        files=len(entries),
        modules=tuple(sorted(modules)),
        dependencies=tuple(f"{name}=={version}" for name, version in pins),
    )


def code_zip(
    *, source_root: Path | None = None, handlers: Sequence[str] = HANDLER_MODULES
) -> bytes:
    """The handlers' modules alone, zipped like the package but without dependencies.

    For stand-in deployments that never run the code (`elm local` on moto).
    """
    root = source_root or _source_root()
    modules = runtime_modules(root, handlers)
    entries = {path.relative_to(root).as_posix(): path.read_bytes() for path in modules.values()}
    buffer = io.BytesIO()
    _write_zip(buffer, entries)
    return buffer.getvalue()


def runtime_modules(source_root: Path, handlers: Sequence[str]) -> dict[str, Path]:
    """The project modules ``handlers`` import, directly or not, with their packages.

    Imports under ``if TYPE_CHECKING:`` are left out: they never run.
    """
    found: dict[str, Path] = {}
    pending = list(handlers)
    for handler in handlers:
        if _module_file(source_root, handler) is None:
            raise PackageError(f"handler module {handler} not found under {source_root}")
    while pending:
        name = pending.pop()
        if name in found:
            continue
        path = _module_file(source_root, name)
        if path is None:
            continue
        found[name] = path
        # A module's packages run first: their __init__ files are needed too.
        pending.extend(_parents(name))
        for imported in _imports(path, name, is_package=path.name == "__init__.py"):
            if imported.split(".")[0] in PROJECT_PACKAGES:
                pending.extend([*_parents(imported), imported])
    return found


def runtime_requirements(project: str = _PROJECT) -> list[tuple[str, str]]:
    """(name, installed version) of every distribution the Lambda needs and lacks, sorted.

    The project's requirements (no extras) and theirs, as they apply on the Lambda runtime;
    a distribution the runtime provides is left out, and so are its own requirements.
    """
    pins: dict[str, tuple[str, str]] = {}
    pending = _applicable(_requires(project), f"{project}'s requirements")
    while pending:
        requirement = pending.pop()
        key = canonicalize_name(requirement.name)
        if key in PROVIDED_BY_RUNTIME or key in pins:
            continue
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise PackageError(
                f"{requirement.name} is needed by the Lambda but is not installed (make install)"
            ) from None
        pins[key] = (distribution.metadata["Name"], distribution.version)
        pending.extend(_applicable(distribution.requires or [], requirement.name))
    return sorted(pins.values(), key=lambda pin: canonicalize_name(pin[0]))


def _requires(project: str) -> list[str]:
    try:
        return metadata.requires(project) or []
    except metadata.PackageNotFoundError:
        raise PackageError(f"{project} is not installed (make install)") from None


def _applicable(lines: Iterable[str], owner: str) -> list[Requirement]:
    requirements = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise PackageError(f"{owner}: cannot read requirement {line!r} ({error})") from None
        marker: Marker | None = requirement.marker
        if marker is None or marker.evaluate(dict(_TARGET_ENVIRONMENT)):
            requirements.append(requirement)
    return requirements


def _source_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _module_file(root: Path, name: str) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imports(path: Path, module: str, *, is_package: bool) -> Iterator[str]:
    """Every module ``path`` imports at run time, absolute, dotted."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if is_package else module.rpartition(".")[0]
    for node in _runtime_nodes(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            yield base
            for alias in node.names:
                if alias.name != "*":
                    # Possibly a submodule; _module_file decides.
                    yield f"{base}.{alias.name}"


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _runtime_nodes(body: Sequence[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of ``body``, except what sits under ``if TYPE_CHECKING:``."""
    for statement in body:
        if isinstance(statement, ast.If) and _is_type_checking(statement.test):
            yield from _runtime_nodes(statement.orelse)
            continue
        yield statement
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                yield from _runtime_nodes([child])
            else:
                yield from ast.walk(child)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _check_imports(
    root: Path, modules: Mapping[str, Path], pins: Sequence[tuple[str, str]]
) -> None:
    """Every third-party import of the packaged code is packaged or provided by the runtime."""
    available = {canonicalize_name(name) for name, _ in pins} | PROVIDED_BY_RUNTIME
    owners = metadata.packages_distributions()
    for name, path in sorted(modules.items()):
        for imported in _imports(path, name, is_package=path.name == "__init__.py"):
            top = imported.split(".")[0]
            if not top or top in PROJECT_PACKAGES or top in sys.stdlib_module_names:
                continue
            distributions = {canonicalize_name(d) for d in owners.get(top, [])}
            if not distributions & available:
                raise PackageError(
                    f"{path.relative_to(root).as_posix()} imports {top}, which is not a runtime "
                    "dependency: the Lambda would fail to start"
                )


def _pip_install(target: Path, pins: Sequence[tuple[str, str]]) -> None:
    if not pins:
        target.mkdir(parents=True)
        return
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",  # the closure is already resolved and pinned above
        "--no-compile",  # the runtime compiles on import; .pyc files would differ per build
        "--only-binary=:all:",
        "--platform",
        LAMBDA_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON,
        "--target",
        str(target),
        *(f"{name}=={version}" for name, version in pins),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {completed.returncode}"
        raise PackageError(f"pip could not install the Lambda's dependencies: {reason}")


def _dependency_files(target: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(target.rglob("*")):
        relative = path.relative_to(target)
        # Console scripts (bin/) are of no use in a Lambda, and bytecode is never packaged.
        if path.is_dir() or relative.parts[0] == "bin" or "__pycache__" in relative.parts:
            continue
        yield relative.as_posix(), path.read_bytes()


def _imported_only(
    entries: Mapping[str, bytes], target: Path, root: Path, modules: Mapping[str, Path]
) -> dict[str, bytes]:
    """``entries`` without the modules of `TRIMMED_PACKAGES` that the handlers never import.

    The closure is followed through the source, as for the project's own modules, from the
    handlers' imports: every import statement counts, in function bodies too (they run on
    first use), `if TYPE_CHECKING:` blocks excepted. A module whose own top level imports a
    distribution that is neither packaged nor provided by the runtime (Powertools' optional
    pydantic) cannot be imported on the Lambda, so it is not followed: leaving it out fails
    that import as it would have failed anyway. A trimmed package keeps the modules of that
    closure, the data files of the packages they belong to, and its distribution's metadata
    (its licence among them).
    """
    available = {arcname.split("/")[0].removesuffix(".py") for arcname in entries}
    available |= set(PROJECT_PACKAGES) | set(sys.stdlib_module_names) | _provided_tops()
    wanted = {
        imported
        for name, path in modules.items()
        for imported in _imports(path, name, is_package=path.name == "__init__.py")
        if imported.split(".")[0] in TRIMMED_PACKAGES
    }
    kept: set[str] = set()
    # A module's packages are added once it is known to be importable (below).
    pending = list(wanted)
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        path = _module_file(target, name)
        if path is None or not _importable(path, available):
            continue
        kept.add(name)
        pending.extend(_parents(name))
        pending.extend(
            imported
            for imported in _imports(path, name, is_package=path.name == "__init__.py")
            if imported.split(".")[0] in TRIMMED_PACKAGES
        )
    kept_files = {_module_file(target, name) for name in kept}
    kept_packages = {p.parent for p in kept_files if p is not None and p.name == "__init__.py"}
    result = {}
    for arcname, content in entries.items():
        if arcname.split("/")[0] in TRIMMED_PACKAGES:
            path = target / arcname
            if path.suffix == ".py" and path not in kept_files:
                continue
            if path.suffix != ".py" and path.parent not in kept_packages:
                continue
        result[arcname] = content
    return _records_of(result)


def _records_of(entries: Mapping[str, bytes]) -> dict[str, bytes]:
    """``entries`` with each distribution's RECORD listing only the files packaged.

    A RECORD names every file its installer wrote ("Recording installed projects", Python
    Packaging User Guide); the files left out (trimmed modules, console scripts) are not
    in the Lambda, so `importlib.metadata` must not be told they are.
    """
    result = dict(entries)
    for arcname, content in entries.items():
        folder, _, name = arcname.rpartition("/")
        if name != "RECORD" or not folder.endswith(".dist-info") or "/" in folder:
            continue
        rows = csv.reader(io.StringIO(content.decode("utf-8")))
        kept = [row for row in rows if row and row[0] in entries]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(kept)
        result[arcname] = buffer.getvalue().encode("utf-8")
    return result


def _provided_tops() -> set[str]:
    """The top-level modules of the distributions the Lambda runtime provides."""
    owners = metadata.packages_distributions()
    return {
        top
        for top, distributions in owners.items()
        if {canonicalize_name(d) for d in distributions} & PROVIDED_BY_RUNTIME
    }


def _importable(path: Path, available: set[str]) -> bool:
    """False when the module's top level imports, unguarded, a module nothing provides."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Import):
            tops = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            tops = [node.module.split(".")[0]]
        else:
            continue
        if any(top not in available for top in tops):
            return False
    return True


def _write_zip(path: Path | io.BytesIO, entries: Mapping[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = _FILE_MODE << 16
            archive.writestr(info, entries[arcname], compresslevel=9)
